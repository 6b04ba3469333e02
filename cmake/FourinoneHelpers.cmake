# fourinone_add_part(TARGET FOLDER): an object library of every .cpp under FOLDER (tests excluded),
# seeing the public headers and, privately, the repository root for internal headers.
function(fourinone_add_part target folder)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.cpp)
  add_library(${target} OBJECT ${sources})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR})
  target_include_directories(${target} SYSTEM PRIVATE ${LMDB_INCLUDE_DIR})
  target_link_libraries(${target} PUBLIC cereal::cereal Threads::Threads Boost::headers spdlog::spdlog OpenSSL::SSL OpenSSL::Crypto)
  target_compile_options(${target} PRIVATE ${FOURINONE_WARNINGS})
  target_compile_definitions(${target} PUBLIC BOOST_ASIO_NO_DEPRECATED)
endfunction()

# fourinone_add_test(NAME SOURCES... LABELS l... TIMEOUT s): a doctest binary whose test cases
# are registered one by one with CTest.
function(fourinone_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE fourinone_testlib)
  target_compile_options(${name} PRIVATE ${FOURINONE_WARNINGS})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  doctest_discover_tests(${name} ADD_LABELS 0 PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
endfunction()
