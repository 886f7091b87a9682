# -DVRAMCALC_SANITIZE=ON builds every target (library, CLI, tests) with AddressSanitizer (which includes
# LeakSanitizer) and UndefinedBehaviorSanitizer. Undefined behaviour aborts instead of printing and going on,
# so a test that triggers it fails. scripts/test --sanitize configures ./build-sanitize this way (with clang 14)
# and sets the runtime options (halt on error, leak checks, reports of spawned vram-calc processes to files).
# Included by the top-level CMakeLists.txt before any target is defined, so the flags reach all of them.
option(VRAMCALC_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

if(VRAMCALC_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "VRAMCALC_SANITIZE needs GCC or Clang (found ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(VRAMCALC_SANITIZE_FLAGS
    -fsanitize=address,undefined
    -fno-sanitize-recover=undefined  # the first undefined behaviour ends the process with an error
    -fno-omit-frame-pointer          # complete stack traces in reports
    -g)
  add_compile_options(${VRAMCALC_SANITIZE_FLAGS})
  # libstdc++'s own checks (vector::operator[], optional::operator*, string_view::front...) abort on misuse that
  # stays inside allocated memory, where AddressSanitizer cannot see it.
  add_compile_definitions(_GLIBCXX_ASSERTIONS)
  add_link_options(${VRAMCALC_SANITIZE_FLAGS})
  # Position-dependent executables: a sanitized PIE spends ~0.2 s of CPU at every start applying over a million
  # relocations (sanitizer metadata), and the suite starts the test binary and the CLI hundreds of times.
  add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-no-pie>)
  message(STATUS "vram-calc: AddressSanitizer + UndefinedBehaviorSanitizer enabled")
endif()
