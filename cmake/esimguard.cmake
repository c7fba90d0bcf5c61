# Shared build settings: warnings on our own code, optional sanitizers, and
# a helper that declares one static library per module.

set(ESIMGUARD_WARNINGS -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # g++ 12 at -O2/-O3 reports these from inside libstdc++ on correct code
  # (GCC bugs 105329, 105651, 106199: memcpy/insert/append after inlining).
  # They stay warnings, so they are still seen, but cannot fail the build.
  list(APPEND ESIMGUARD_WARNINGS -Wno-error=restrict -Wno-error=array-bounds
    -Wno-error=stringop-overflow -Wno-error=stringop-overread)
endif()

if(ESIMGUARD_FUZZ)
  # Every library is instrumented for coverage so that libFuzzer sees into it.
  # libstdc++ 12 gates <expected> on __cpp_concepts >= 202002, which clang 16
  # implements (P0848) but does not yet advertise.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all -Wno-builtin-macro-redefined -Wno-macro-redefined -D__cpp_concepts=202002L)
  add_link_options(-fsanitize=address,undefined)
elseif(ESIMGUARD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# esimguard_module(NAME DEPS <public deps...> PRIVATE_DEPS <private deps...>)
# Sources are every .cpp under lib/NAME (recursively), so that independent
# files can be added without touching this list.
function(esimguard_module name)
  cmake_parse_arguments(M "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT srcs)
    # A module with headers only so far.
    add_library(esimguard_${name} INTERFACE)
    add_library(esimguard::${name} ALIAS esimguard_${name})
    target_include_directories(esimguard_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(esimguard_${name} INTERFACE ${M_DEPS})
    return()
  endif()
  add_library(esimguard_${name} STATIC ${srcs})
  add_library(esimguard::${name} ALIAS esimguard_${name})
  target_include_directories(esimguard_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(esimguard_${name} PRIVATE ${ESIMGUARD_WARNINGS})
  target_link_libraries(esimguard_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()

# esimguard_unit_test(MODULE DEPS <libs...>): one test executable per module
# from every .cpp under tests/unit/MODULE, registered with ctest by label.
function(esimguard_unit_test module)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/${module}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(unit_${module} ${srcs})
  target_compile_options(unit_${module} PRIVATE ${ESIMGUARD_WARNINGS})
  target_include_directories(unit_${module} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(unit_${module} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(unit_${module} PRIVATE
    ESIMGUARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ESIMGUARD_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(unit_${module}
    PROPERTIES LABELS "unit;${module}"
    DISCOVERY_TIMEOUT 60)
endfunction()
