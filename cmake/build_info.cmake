# What --version prints besides the version: the git commit and the catalog date. Both are read when CMake
# configures, not at every build:
# - the commit is `git rev-parse --short HEAD`, with "-dirty" when tracked files differed from HEAD at that
#   moment, or "unknown" outside a git checkout (a package built from a tarball). CMake configures again when
#   HEAD or the branch moves (a commit, a checkout); edits made after configuring do not add "-dirty".
# - the catalog date is the newest "generated" date of data/models.json and data/skus.json; editing either
#   file makes CMake configure again.
# Only src/cli/options.cpp and src/render/json.cpp get them, so a new commit recompiles those two files.

set(VRAMCALC_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --show-toplevel --short HEAD
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  RESULT_VARIABLE vramcalc_git_rc OUTPUT_VARIABLE vramcalc_git_out ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" vramcalc_git_out "${vramcalc_git_out}")
  list(LENGTH vramcalc_git_out vramcalc_git_lines)
  if(vramcalc_git_rc EQUAL 0 AND vramcalc_git_lines EQUAL 2)
    list(GET vramcalc_git_out 0 vramcalc_git_top)
    list(GET vramcalc_git_out 1 vramcalc_git_commit)
  endif()
  # Only this project's own repository counts, not one that a source tarball happens to be unpacked in.
  file(REAL_PATH ${PROJECT_SOURCE_DIR} vramcalc_source_real)
  if(DEFINED vramcalc_git_top)
    file(REAL_PATH ${vramcalc_git_top} vramcalc_git_top)
  endif()
  if(DEFINED vramcalc_git_top AND vramcalc_git_top STREQUAL vramcalc_source_real)
    set(VRAMCALC_COMMIT ${vramcalc_git_commit})
    # --no-optional-locks: never take the index lock a concurrent git command may need.
    execute_process(COMMAND ${GIT_EXECUTABLE} --no-optional-locks status --porcelain --untracked-files=no
                    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} OUTPUT_VARIABLE vramcalc_git_changes ERROR_QUIET)
    if(NOT vramcalc_git_changes STREQUAL "")
      string(APPEND VRAMCALC_COMMIT "-dirty")
    endif()
    # Configure again when HEAD or the branch it points at moves.
    execute_process(COMMAND ${GIT_EXECUTABLE} symbolic-ref -q HEAD WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                    OUTPUT_VARIABLE vramcalc_git_branch ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    foreach(ref HEAD ${vramcalc_git_branch})
      execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --path-format=absolute --git-path ${ref}
                      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                      OUTPUT_VARIABLE vramcalc_git_file ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(EXISTS "${vramcalc_git_file}")  # a packed ref has no file of its own
        set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${vramcalc_git_file})
      endif()
    endforeach()
  endif()
endif()

set(VRAMCALC_CATALOG_DATE "unknown")
foreach(catalog models.json skus.json)
  set(vramcalc_catalog_path ${PROJECT_SOURCE_DIR}/data/${catalog})
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${vramcalc_catalog_path})
  # models.json is relaxed JSON (a config holds Infinity) that string(JSON) refuses, so the top-level
  # "generated" key, written at the head of both files by scripts/gen_catalog.py, is matched there.
  file(READ ${vramcalc_catalog_path} vramcalc_catalog_head LIMIT 4096)
  set(vramcalc_catalog_date "")
  if(vramcalc_catalog_head MATCHES "\"generated\"[ \t\r\n]*:[ \t\r\n]*\"([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])\"")
    set(vramcalc_catalog_date ${CMAKE_MATCH_1})
  endif()
  if(vramcalc_catalog_date STREQUAL "")
    message(WARNING "data/${catalog}: no \"generated\" date (YYYY-MM-DD); --version will not show it")
  elseif(VRAMCALC_CATALOG_DATE STREQUAL "unknown" OR vramcalc_catalog_date STRGREATER VRAMCALC_CATALOG_DATE)
    set(VRAMCALC_CATALOG_DATE ${vramcalc_catalog_date})
  endif()
endforeach()

message(STATUS "vram-calc: commit ${VRAMCALC_COMMIT}, catalog ${VRAMCALC_CATALOG_DATE}")
set_property(SOURCE ${PROJECT_SOURCE_DIR}/src/cli/options.cpp ${PROJECT_SOURCE_DIR}/src/render/json.cpp
             DIRECTORY ${PROJECT_SOURCE_DIR}
             APPEND PROPERTY COMPILE_DEFINITIONS
             VRAMCALC_COMMIT="${VRAMCALC_COMMIT}" VRAMCALC_CATALOG_DATE="${VRAMCALC_CATALOG_DATE}")
