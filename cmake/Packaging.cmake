# The Debian package. From the build folder, `cpack -G DEB` makes fourinone_VERSION_ARCH.deb:
#   /usr/bin/fourinone                        the binary
#   /usr/include/fourinone, /usr/lib/...      headers, libfourinone.a and the CMake package
#                                             (find_package(fourinone) against /usr); the
#                                             library in /usr/lib, or /usr/lib/<multiarch> when
#                                             configured with -DCMAKE_INSTALL_PREFIX=/usr
#   /etc/fourinone/config.xml                 one park server on localhost (a conffile)
#   /lib/systemd/system/fourinone.service     `fourinone up` on it (installed, not enabled)
#   /usr/share/doc/fourinone                  README.md, CONFIG.md, examples/config.xml
# tests/package/run_package_test.cmake (ctest -R package_deb) builds and checks it.

# cpack first builds the "preinstall" target, which by default depends on "all": every test,
# benchmark and sample (half an hour on 2 cores) for a package that holds two targets, and,
# under ctest, a relink of binaries other tests are running. Without that dependency cpack
# packs what is built (build fourinone_cli first), as `cmake --install` does; so does
# `make install`.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# /etc and /lib/systemd belong to a system install only: a plain `cmake --install --prefix P`
# (tests/consumer does one) must not write into this machine's /etc. So they form the component
# "system", left out of a plain install (EXCLUDE_FROM_ALL) and taken by the package below.
install(FILES cmake/debian/config.xml DESTINATION /etc/fourinone COMPONENT system EXCLUDE_FROM_ALL)
install(FILES cmake/debian/fourinone.service DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
# The documented config of the demo (every row and element) and the references.
install(FILES config.xml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES README.md core/CONFIG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# `cmake --install --strip` and the package strip the binary (CMake's own rule) and, here, the
# debug information of libfourinone.a, as dh_strip does for Debian's static libraries (a
# RelWithDebInfo archive is hundreds of MB, nearly all of it debug information).
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    set(archive \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:fourinone>\")
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug \"\${archive}\" RESULT_VARIABLE code)
    if(NOT code EQUAL 0)
      message(FATAL_ERROR \"cannot strip \${archive}\")
    endif()
  endif()")

set(FOURINONE_DEB_MAINTAINER "Fourinone C++ maintainers <maintainers@users.noreply.h-seed-98fe94cd.example>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_PACKAGE_NAME fourinone)
set(CPACK_PACKAGE_VENDOR "Fourinone C++")
set(CPACK_PACKAGE_CONTACT "${FOURINONE_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed coordination, compute, cache, queue and file servers")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Fourinone C++ is one binary and one library for a coordination service in
the role of ZooKeeper or etcd (the park: a replicated domain/node store with
Raft, sessions, watches, locks and elections), contractor and migrant-worker
parallel compute, a distributed cache, a message queue kept by the park group,
and remote file operations. Everything starts from one config.xml.
This package holds the fourinone binary with a systemd unit and a default
/etc/fourinone/config.xml, and the C++ headers, static library and CMake
package for building programs against it.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # as Debian ships binaries; the build folder keeps the debug info
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # fourinone_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# One package of both components (the plain install, "Unspecified", and "system"); listing them
# is what makes CPack install the EXCLUDE_FROM_ALL one. An install() rule given another
# COMPONENT must be added here, or the package leaves it out.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified system)

# Depends comes from dpkg-shlibdeps (package dpkg-dev, which .ci/install-deps installs): it reads
# the libraries the binary really links (libc, libstdc++, libssl3, liblmdb0, libspdlog, libfmt
# today) with the minimum versions their symbols need, so the list cannot go stale when a
# dependency is added or Debian renames a library; a hand-written list would do both.
# Without dpkg-shlibdeps CPack would quietly leave Depends empty: hence the warning, and the
# package test checks Depends.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
find_program(FOURINONE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NOT FOURINONE_DPKG_SHLIBDEPS)
  message(WARNING "dpkg-shlibdeps (package dpkg-dev) not found: a .deb made by cpack would have no Depends")
endif()
# Building against libfourinone.a (find_package(fourinone)) needs these development packages;
# a server needs none of them, so they are suggested, not required.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "g++, cmake, libcereal-dev, libspdlog-dev, libssl-dev, liblmdb-dev, libpugixml-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/conffiles ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755, the rest 0644

include(CPack)
