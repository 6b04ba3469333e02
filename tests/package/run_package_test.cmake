# ctest driver (package_deb): makes the .deb of this build with cpack, reads its metadata and
# file list with dpkg-deb, unpacks it into a scratch root (nothing is installed on this
# machine), runs the packaged binary, and builds and runs tests/consumer against the unpacked
# /usr with find_package(fourinone), as a user of the installed package would.
#   -DBUILD_DIR=<fourinone build> -DCPACK=<cpack> -DCONSUMER_SOURCE=<tests/consumer>
#   -DWORK_DIR=<scratch> -DVERSION=<project version>
include(${CMAKE_CURRENT_LIST_DIR}/check_version.cmake)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(root "${WORK_DIR}/root")

# Every failure removes the scratch folder first; the message says what was wrong.
function(fail text)
  file(REMOVE_RECURSE "${WORK_DIR}")
  message(FATAL_ERROR "${text}")
endfunction()

# Runs the command after OUT_VAR, fails on a non-zero exit, and sets OUT_VAR to its output
# (step_errors to its standard error).
function(run_step what out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    fail("${what} failed (${code}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(${out_var} "${out}" PARENT_SCOPE)
  set(step_errors "${err}" PARENT_SCOPE)
endfunction()

function(expect_match what text pattern)
  if(NOT text MATCHES "${pattern}")
    fail("${what}: no match for '${pattern}' in:\n${text}")
  endif()
endfunction()

# 1. The package.
run_step("cpack -G DEB" out "${CPACK}" -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}/out")
file(GLOB debs "${WORK_DIR}/out/*.deb")
list(LENGTH debs count)
if(NOT count EQUAL 1)
  fail("expected one .deb in ${WORK_DIR}/out, found ${count}: ${debs}\n${out}")
endif()
get_filename_component(deb_name "${debs}" NAME)
string(REPLACE "." "\\." version_pattern "${VERSION}")
expect_match("file name" "${deb_name}" "^fourinone_${version_pattern}_[a-z0-9]+\\.deb$")

# 2. Its metadata. Depends comes from dpkg-shlibdeps: without it, it would be empty.
run_step("dpkg-deb -I" info dpkg-deb -I "${debs}")
expect_match("Package" "${info}" "\n Package: fourinone\n")
expect_match("Version" "${info}" "\n Version: ${version_pattern}\n")
expect_match("Maintainer" "${info}" "\n Maintainer: [^\n]+ <[^\n>]+@[^\n>]+>\n")
expect_match("Description" "${info}" "\n Description: [^\n]+\n [^\n]+")
foreach(library libc6 libstdc\\+\\+6 libssl3 liblmdb0)
  expect_match("Depends" "${info}" "\n Depends: ([^\n]*[ ,])?${library}[ ,\n]")
endforeach()
foreach(script postinst prerm postrm conffiles)
  expect_match("control member ${script}" "${info}" "[0-9]+ bytes, +[0-9]+ lines +\\*? *${script}")
endforeach()
run_step("dpkg-deb -I conffiles" conffiles dpkg-deb -I "${debs}" conffiles)
if(NOT conffiles STREQUAL "/etc/fourinone/config.xml\n")
  fail("conffiles should list /etc/fourinone/config.xml alone, not:\n${conffiles}")
endif()

# 3. Its files, all owned by root.
run_step("dpkg-deb -c" listing dpkg-deb -c "${debs}")
foreach(path
    "-rwxr-xr-x root/root [^\n]* \\./usr/bin/fourinone\n"
    " \\./usr/include/fourinone/park\\.hpp\n"
    " \\./usr/include/fourinone/error\\.hpp\n"
    " \\./usr/lib/([a-z0-9_-]+/)?libfourinone\\.a\n"
    " \\./usr/lib/([a-z0-9_-]+/)?cmake/fourinone/fourinoneConfig\\.cmake\n"
    " \\./usr/lib/([a-z0-9_-]+/)?cmake/fourinone/fourinoneConfigVersion\\.cmake\n"
    " \\./usr/lib/([a-z0-9_-]+/)?cmake/fourinone/fourinoneTargets\\.cmake\n"
    " \\./etc/fourinone/config\\.xml\n"
    " \\./lib/systemd/system/fourinone\\.service\n"
    " \\./usr/share/doc/fourinone/examples/config\\.xml\n"
    " \\./usr/share/doc/fourinone/CONFIG\\.md\n")
  expect_match("dpkg-deb -c" "${listing}" "${path}")
endforeach()
string(REGEX MATCHALL "[^\n]+" entries "${listing}")
foreach(entry IN LISTS entries)
  if(NOT entry MATCHES "^[-dl][-rwxs]+ root/root ")
    fail("not owned by root/root: ${entry}")
  endif()
endforeach()

# 4. Unpacked (dpkg-deb -x, no install): the binary runs and tells its version.
file(MAKE_DIRECTORY "${root}")
run_step("dpkg-deb -x" out dpkg-deb -x "${debs}" "${root}")
fourinone_version_error("${root}/usr/bin/fourinone" "${VERSION}" error)
if(error)
  fail("packaged binary: ${error}")
endif()
message(STATUS "packaged fourinone --version: ok")

# The packaged config loads: ctl reads it before it connects, here to a closed port, so ctl
# fails for that reason and never for the config.
execute_process(COMMAND "${root}/usr/bin/fourinone" ctl --config "${root}/etc/fourinone/config.xml"
                        --server 127.0.0.1:1 --timeout 300 status
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(code EQUAL 0 OR err MATCHES "config_error|config\\.xml")
  fail("the packaged config.xml (exit ${code}):\n${out}${err}")
endif()
message(STATUS "packaged config.xml loads: ok")

# 5. The unit runs `up` on the packaged config, whose DATADIR is the unit's StateDirectory
# (the only folder the dynamic user may write).
file(READ "${root}/lib/systemd/system/fourinone.service" unit)
expect_match("fourinone.service" "${unit}" "\nExecStart=/usr/bin/fourinone up --config /etc/fourinone/config\\.xml\n")
expect_match("fourinone.service" "${unit}" "\nStateDirectory=fourinone\n")
expect_match("fourinone.service" "${unit}" "\nRestart=on-failure\n")
file(READ "${root}/etc/fourinone/config.xml" config)
expect_match("/etc/fourinone/config.xml" "${config}" "<DATADIR>/var/lib/fourinone</DATADIR>")
find_program(SYSTEMD_ANALYZE systemd-analyze)
if(SYSTEMD_ANALYZE)
  # verify wants ExecStart's binary to exist, so it checks a copy naming the unpacked one. A
  # directive it cannot parse is only a warning ("ignoring"), so any output fails the test.
  string(REPLACE "=/usr/bin/fourinone " "=${root}/usr/bin/fourinone " unit_copy "${unit}")
  file(WRITE "${WORK_DIR}/unit/fourinone.service" "${unit_copy}")
  run_step("systemd-analyze verify" out "${SYSTEMD_ANALYZE}" verify "${WORK_DIR}/unit/fourinone.service")
  if(NOT out STREQUAL "" OR NOT step_errors STREQUAL "")
    fail("systemd-analyze verify fourinone.service:\n${out}${step_errors}")
  endif()
endif()

# 6. find_package(fourinone) against the unpacked /usr: the consumer builds and runs, and it
# found this package, not some other installed copy.
run_step("configure consumer" out "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${WORK_DIR}/consumer"
         "-DCMAKE_PREFIX_PATH=${root}/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release)
file(STRINGS "${WORK_DIR}/consumer/CMakeCache.txt" found REGEX "^fourinone_DIR:")
string(FIND "${found}" "=${root}/usr/" at)
if(at EQUAL -1)
  fail("the consumer found fourinone elsewhere: ${found}")
endif()
run_step("build consumer" out "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
run_step("run consumer" out "${WORK_DIR}/consumer/consumer")

file(REMOVE_RECURSE "${WORK_DIR}")
