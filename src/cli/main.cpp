#include "vramcalc/cli/cli.hpp"

int main(int argc, char** argv) { return vramcalc::cli::run(argc, argv); }
