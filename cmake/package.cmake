# Installation and packaging (issue 6). `cmake --install <build> --prefix P` gives:
#   P/bin/vram-calc
#   P/share/vram-calc/{models,skus}.json                      (where the binary looks: src/sources/data_dir.cpp)
#   P/share/man/man1/vram-calc.1.gz                           (vram-calc.1 where gzip is missing)
#   P/share/bash-completion/completions/vram-calc
#   P/share/zsh/vendor-completions/_vram-calc                 (Debian's zsh searches it)
#   P/share/fish/vendor_completions.d/vram-calc.fish
#   P/share/doc/vram-calc/{README.md,LICENSE,json-schema.md}
# The binary and the data files are installed by the top-level CMakeLists.txt; the rest is here.
# `cpack -G DEB` in the build directory makes vram-calc_<version>_<arch>.deb of the same tree under /usr.

include(${CMAKE_CURRENT_LIST_DIR}/build_info.cmake)
include(GNUInstallDirs)

# ---- Completions and man page, written by the built binary from its own option definitions -------------------
# (its hidden --completions SHELL and --man options), so they always match the flags it accepts.
if(CMAKE_CROSSCOMPILING)
  message(STATUS "vram-calc: cross-compiling, so no shell completions or man page (they run the built binary)")
else()
  find_program(VRAMCALC_GZIP gzip)
  set(vramcalc_bash ${PROJECT_BINARY_DIR}/completions/vram-calc.bash)
  set(vramcalc_zsh ${PROJECT_BINARY_DIR}/completions/_vram-calc)
  set(vramcalc_fish ${PROJECT_BINARY_DIR}/completions/vram-calc.fish)
  set(vramcalc_man ${PROJECT_BINARY_DIR}/man/vram-calc.1)
  if(VRAMCALC_GZIP)
    set(vramcalc_man ${vramcalc_man}.gz)
  endif()
  add_custom_command(
    OUTPUT ${vramcalc_bash} ${vramcalc_zsh} ${vramcalc_fish} ${vramcalc_man}
    COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:vram-calc> -DOUTPUT_DIR=${PROJECT_BINARY_DIR}
            -DGZIP=${VRAMCALC_GZIP} -P ${CMAKE_CURRENT_LIST_DIR}/generate_docs.cmake
    DEPENDS vram-calc ${CMAKE_CURRENT_LIST_DIR}/generate_docs.cmake
    COMMENT "Writing the shell completions and the man page"
    VERBATIM)
  add_custom_target(vram-calc-docs ALL DEPENDS ${vramcalc_bash} ${vramcalc_zsh} ${vramcalc_fish} ${vramcalc_man})

  install(FILES ${vramcalc_bash} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME vram-calc)
  install(FILES ${vramcalc_zsh} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
  install(FILES ${vramcalc_fish} DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
  install(FILES ${vramcalc_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

install(FILES README.md LICENSE docs/json-schema.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- Debian package -------------------------------------------------------------------------------------------
set(VRAMCALC_DEB_MAINTAINER "vram-calc maintainers <maintainers@vram-calc.invalid>"
    CACHE STRING "Maintainer field of the .deb (Name <email>)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vram-calc)
set(CPACK_PACKAGE_VENDOR "vram-calc")
set(CPACK_PACKAGE_CONTACT "${VRAMCALC_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "GPU memory sizing for serving LLMs with vLLM or TGI")
# One paragraph; CPack indents its lines for the control file.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "vram-calc reads a model's config.json (a local file, the Hugging Face cache, a bundled\n"
       "catalog of popular models, or the Hub) and tells how much GPU memory serving it with vLLM\n"
       "or Text Generation Inference needs, how many GPUs and nodes of a GPU or cloud-instance\n"
       "SKU that takes, and the longest max_model_len they hold, showing each figure's formula.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # vram-calc_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VRAMCALC_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# A control file has no license field: the license travels as /usr/share/doc/vram-calc/LICENSE (Apache-2.0).

# Depends: libcurl4, which src/sources/http.cpp loads with dlopen (libcurl.so.4) for the Hub, so no tool can
# see it; then the linked libraries, computed by dpkg-shlibdeps (dpkg-dev) where it is there, else the
# Debian 12 packages the binary links against today.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4")
find_program(VRAMCALC_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(VRAMCALC_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "vram-calc: no dpkg-shlibdeps; the .deb gets a fixed Depends list (Debian 12 names)")
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libc6, libstdc++6, libgcc-s1, libfmt9, libyaml-cpp0.7")
endif()

include(CPack)
