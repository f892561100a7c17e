# inject.cmake - adds fuzz/ to a configure without editing the top-level CMakeLists.txt:
#   cmake ... -DTINYFLOW_FUZZ=ON -DCMAKE_PROJECT_INCLUDE=<repo>/fuzz/inject.cmake
# (fuzz/build.sh passes it). CMake includes this file right after project(); the deferred
# call runs at the end of the top-level directory, when the tf_* libraries exist, and
# include()s fuzz/CMakeLists.txt (add_subdirectory is not allowed there). It does nothing
# once the top-level file adds fuzz/ itself (option TINYFLOW_FUZZ + add_subdirectory).
if(TINYFLOW_FUZZ)
  function(_tf_fuzz_inject)
    if(NOT TARGET fuzz_all)
      include(${CMAKE_SOURCE_DIR}/fuzz/CMakeLists.txt) # add_subdirectory is not allowed here
    endif()
  endfunction()
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _tf_fuzz_inject)
endif()
