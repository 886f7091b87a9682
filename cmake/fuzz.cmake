# libFuzzer targets (issue 6): -DVRAMCALC_FUZZ=ON, with clang only. scripts/fuzz configures, builds and runs them.
#
# The code under test is every layer's sources (VRAMCALC_LIBRARY_SOURCES, set by the top-level CMakeLists.txt),
# compiled a second time here into vramcalc_fuzz_core with coverage instrumentation and sanitizers; the layer
# libraries, the CLI and the tests are left exactly as they are, so a build without the option is unaffected.
option(VRAMCALC_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)
if(NOT VRAMCALC_FUZZ)
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "VRAMCALC_FUZZ needs clang (libFuzzer ships with it); ${CMAKE_CXX_COMPILER_ID} is configured. "
                      "Configure a fresh build directory with: CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz "
                      "-DVRAMCALC_FUZZ=ON (scripts/fuzz does this)")
endif()

# UBSan findings must stop the run, or libFuzzer never sees them: no recovery.
set(VRAMCALC_FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
# libstdc++'s bounds checks (vector::operator[], string_view, optional::operator*) turn silent misuse into aborts.
set(VRAMCALC_FUZZ_DEFINITIONS _GLIBCXX_ASSERTIONS)

get_target_property(vramcalc_fuzz_definitions vramcalc_core COMPILE_DEFINITIONS)
if(NOT vramcalc_fuzz_definitions)
  set(vramcalc_fuzz_definitions "")
endif()
add_library(vramcalc_fuzz_core STATIC ${VRAMCALC_LIBRARY_SOURCES})
target_include_directories(vramcalc_fuzz_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                              PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src
                                              PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(vramcalc_fuzz_core PUBLIC nlohmann_json::nlohmann_json fmt::fmt CLI11::CLI11 CURL::libcurl
  yaml-cpp)
target_compile_definitions(vramcalc_fuzz_core PRIVATE ${vramcalc_fuzz_definitions} PUBLIC ${VRAMCALC_FUZZ_DEFINITIONS})
target_compile_options(vramcalc_fuzz_core PRIVATE ${VRAMCALC_WARNINGS} -g -O1 -fsanitize=fuzzer-no-link
                       ${VRAMCALC_FUZZ_SANITIZERS})

# One executable per fuzz/fuzz_*.cpp; each links libFuzzer's main.
file(GLOB vramcalc_fuzz_targets CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.cpp)
add_custom_target(fuzz)
foreach(source IN LISTS vramcalc_fuzz_targets)
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
  target_link_libraries(${name} PRIVATE vramcalc_fuzz_core)
  target_compile_options(${name} PRIVATE ${VRAMCALC_WARNINGS} -g -O1 -fsanitize=fuzzer ${VRAMCALC_FUZZ_SANITIZERS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer ${VRAMCALC_FUZZ_SANITIZERS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(fuzz ${name})
endforeach()
