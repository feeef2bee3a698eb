# `cpack -G DEB` (from the build directory): the dunning service as a Debian package — the
# binary, /etc/dunning/dunning.toml (a conffile), the hardened systemd unit. The headers and
# libraries stay out: hosts that link the module in use `cmake --install`.
#
# The service's files have absolute or package-only places, so `cmake --install` leaves them out
# unless asked for with --component service.
set(DUNNING_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

# The example configuration with the database and outbox in the unit's StateDirectory.
file(READ ${PROJECT_SOURCE_DIR}/config/example.toml DUNNING_SERVICE_CONFIG)
string(REPLACE "# dunning: example configuration, used by scripts/demo and meant as the reference."
  "# dunning: the service's configuration, from the example configuration; edit, then\n# systemctl enable --now dunning. Secrets go in /etc/dunning/dunning.env (NAME=value lines)."
  DUNNING_SERVICE_CONFIG "${DUNNING_SERVICE_CONFIG}")
string(REPLACE "config/example.toml" "/etc/dunning/dunning.toml"
  DUNNING_SERVICE_CONFIG "${DUNNING_SERVICE_CONFIG}")
string(REPLACE "\"../var/demo/" "\"/var/lib/dunning/" DUNNING_SERVICE_CONFIG "${DUNNING_SERVICE_CONFIG}")
file(WRITE ${PROJECT_BINARY_DIR}/packaging/dunning.toml "${DUNNING_SERVICE_CONFIG}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/example.toml)

install(FILES ${PROJECT_BINARY_DIR}/packaging/dunning.toml ${PROJECT_SOURCE_DIR}/config/base_rates.toml
  DESTINATION /etc/dunning COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${DUNNING_PACKAGING_DIR}/dunning.service DESTINATION lib/systemd/system
  COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/config/example.toml
  DESTINATION share/doc/dunning COMPONENT service EXCLUDE_FROM_ALL)
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "/etc/dunning/dunning.toml\n/etc/dunning/base_rates.toml\n")

set(DUNNING_PACKAGE_CONTACT "dunning maintainers <root@localhost>" CACHE STRING
  "Maintainer field of the Debian package")
set(CPACK_PACKAGE_NAME dunning)
set(CPACK_PACKAGE_VENDOR dunning)
set(CPACK_PACKAGE_CONTACT "${DUNNING_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "recovers failed Stripe membership payments for course platforms")
set(CPACK_PACKAGE_DESCRIPTION "Receives Stripe's webhooks, retries failed payments, sends the \
dunning emails and decides course access while a member owes money.")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL runtime service)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS systemd)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/conffiles
  ${DUNNING_PACKAGING_DIR}/postinst ${DUNNING_PACKAGING_DIR}/prerm ${DUNNING_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Depends from the libraries the binary links (dpkg-shlibdeps, Debian: dpkg-dev), and SQLite's
# version where the store's SQL needs it (IS [NOT] DISTINCT FROM: 3.39), which no symbol shows.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libsqlite3-0 (>= 3.39)")
find_program(DUNNING_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(DUNNING_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  message(WARNING "dpkg-shlibdeps not found (Debian: dpkg-dev): the .deb will have no Depends")
endif()
include(CPack)
