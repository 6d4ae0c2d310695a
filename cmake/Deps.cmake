# Packaged libraries through pkg-config (Debian: see scripts/deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# libcrypto: HMAC-SHA256 webhook signatures and result fingerprints (libssl-dev).
pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
# libmicrohttpd: the HTTP server of `clariq serve` (src/http).
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
add_library(cq_deps INTERFACE)
target_link_libraries(cq_deps INTERFACE PkgConfig::YAML PkgConfig::JANSSON PkgConfig::CURL
                      PkgConfig::CRYPTO PkgConfig::MHD Threads::Threads)
if(CQ_WITH_PG)
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
  target_link_libraries(cq_deps INTERFACE PkgConfig::LIBPQ)
endif()
if(CQ_WITH_SQLITE)
  pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
  target_link_libraries(cq_deps INTERFACE PkgConfig::SQLITE3)
endif()
if(CQ_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
