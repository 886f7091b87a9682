# Run by the build (cmake -P) once vram-calc is linked: writes what its hidden options print.
#   -DBINARY=<built vram-calc> -DOUTPUT_DIR=<build dir> [-DGZIP=<gzip>]
# Output: completions/vram-calc.bash, completions/_vram-calc, completions/vram-calc.fish, and
# man/vram-calc.1 (plus man/vram-calc.1.gz, compressed as Debian wants it, when GZIP is given).

# Not a test run: a sanitizer build's leak report at exit must not fail the build.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")

function(capture file)
  execute_process(COMMAND ${BINARY} ${ARGN} OUTPUT_FILE ${file} ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(REMOVE ${file})
    message(FATAL_ERROR "vram-calc ${ARGN} failed (${rc}): ${err}")
  endif()
endfunction()

file(MAKE_DIRECTORY ${OUTPUT_DIR}/completions ${OUTPUT_DIR}/man)
capture(${OUTPUT_DIR}/completions/vram-calc.bash --completions bash)
capture(${OUTPUT_DIR}/completions/_vram-calc --completions zsh)
capture(${OUTPUT_DIR}/completions/vram-calc.fish --completions fish)
capture(${OUTPUT_DIR}/man/vram-calc.1 --man)
if(GZIP)
  # -n: no name or time stamp in the header, so the same page gives the same bytes.
  execute_process(COMMAND ${GZIP} -9 -n -c ${OUTPUT_DIR}/man/vram-calc.1 OUTPUT_FILE ${OUTPUT_DIR}/man/vram-calc.1.gz
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip of the man page failed (${rc})")
  endif()
endif()
