# What `cmake --install` puts where, and the CMake package a host finds with
# find_package(dunning) to link dunning::module. Headers, libraries and the package are the
# "development" component, the binary "runtime"; the Debian package's files are in
# packaging/package.cmake.
include(CMakePackageConfigHelpers)

# Installed, each library is dunning::<folder>; the composition root is dunning::module.
set(DUNNING_LIBRARIES core crypto config webhook retry mailer telemetry store access jobs http plugin)
foreach(room IN LISTS DUNNING_LIBRARIES)
  set(name ${room})
  if(room STREQUAL "plugin")
    set(name module)
  endif()
  set_target_properties(dunning_${room} PROPERTIES EXPORT_NAME ${name})
  # The same names inside this tree, so examples/ builds in either place unchanged.
  add_library(dunning::${name} ALIAS dunning_${room})
  list(APPEND DUNNING_LIBRARY_TARGETS dunning_${room})
endforeach()

install(TARGETS dunning RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS ${DUNNING_LIBRARY_TARGETS} EXPORT dunningTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)

# The headers plugin/module.hpp includes, directly or through others, found when installing so
# the list cannot fall behind the code. Layout kept: include/dunning/core/…, plugin/….
install(CODE "set(DUNNING_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(DUNNING_HEADER_DESTINATION \"${CMAKE_INSTALL_INCLUDEDIR}/dunning\")
set(DUNNING_HEADER_ROOTS plugin/module.hpp config/config.hpp)"
  COMPONENT development)
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install_headers.cmake COMPONENT development)

set(DUNNING_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dunning)
install(EXPORT dunningTargets NAMESPACE dunning:: DESTINATION ${DUNNING_PACKAGE_DIR}
  COMPONENT development)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/dunningConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dunningConfig.cmake INSTALL_DESTINATION ${DUNNING_PACKAGE_DIR})
# 0.x: a new minor version may change the module's interface.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dunningConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dunningConfig.cmake ${PROJECT_BINARY_DIR}/dunningConfigVersion.cmake
  DESTINATION ${DUNNING_PACKAGE_DIR} COMPONENT development)
