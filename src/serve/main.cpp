#include "serve/serve.hpp"

int main(int argc, char** argv) { return vramcalc::serve::run(argc, argv); }
