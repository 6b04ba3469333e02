# `fourinone --version` and `fourinone version` print one line, "fourinone VERSION (commit C)",
# VERSION the CMake project version and C a short git hash (with "-dirty" after it for a build
# with local changes) or "unknown"; both exit 0.
#   ctest cli_version:  cmake -DFOURINONE=BINARY -DVERSION=X.Y.Z -P check_version.cmake
#   run_package_test.cmake includes this file and calls fourinone_version_error on the packaged binary.

# Sets OUT_VAR to what is wrong with BINARY's version output, or to "" when it is right.
function(fourinone_version_error binary version out_var)
  string(REPLACE "." "\\." version_pattern "${version}")
  set(hex "[0-9a-f]")
  set(hash "${hex}${hex}${hex}${hex}${hex}${hex}${hex}+(-dirty)?")  # git's shortest is 7
  foreach(form --version version)
    execute_process(COMMAND "${binary}" ${form} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT code EQUAL 0)
      set(${out_var} "'${binary} ${form}' exited with ${code}:\n${out}${err}" PARENT_SCOPE)
      return()
    endif()
    if(NOT out MATCHES "^fourinone ${version_pattern} \\(commit (${hash}|unknown)\\)\n$")
      set(${out_var} "'${binary} ${form}' printed '${out}', expected 'fourinone ${version} (commit HASH|unknown)'" PARENT_SCOPE)
      return()
    endif()
    list(APPEND outputs "${out}")
  endforeach()
  list(REMOVE_DUPLICATES outputs)
  list(LENGTH outputs distinct)
  if(NOT distinct EQUAL 1)
    set(${out_var} "--version and version print different lines: ${outputs}" PARENT_SCOPE)
    return()
  endif()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  fourinone_version_error("${FOURINONE}" "${VERSION}" error)
  if(error)
    message(FATAL_ERROR "${error}")
  endif()
  message(STATUS "fourinone --version: ok")
endif()
