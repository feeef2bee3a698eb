# Run by `cmake --install`: copies DUNNING_HEADER_ROOTS and every project header they include,
# transitively, from DUNNING_SOURCE_DIR to <prefix>/DUNNING_HEADER_DESTINATION, folders kept.
# Project includes are quoted and name their folder ("core/time.hpp"); <…> ones are third-party.
cmake_policy(VERSION 3.25)
set(todo ${DUNNING_HEADER_ROOTS})
set(done)
while(todo)
  list(POP_FRONT todo header)
  if(header IN_LIST done)
    continue()
  endif()
  list(APPEND done ${header})
  file(STRINGS "${DUNNING_SOURCE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[^\"]*\"([^\"]+)\".*" "\\1" included "${line}")
    if(NOT EXISTS "${DUNNING_SOURCE_DIR}/${included}")
      message(FATAL_ERROR "${header} includes \"${included}\", which is not a path from the "
        "source root; write project includes as \"<folder>/<file>\"")
    endif()
    list(APPEND todo ${included})
  endforeach()
endwhile()

list(SORT done)
foreach(header IN LISTS done)
  get_filename_component(folder "${header}" DIRECTORY)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/${DUNNING_HEADER_DESTINATION}/${folder}"
    TYPE FILE FILES "${DUNNING_SOURCE_DIR}/${header}")
endforeach()
