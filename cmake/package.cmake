# The Debian package (CPack DEB): `scripts/package` builds vkhid_<version>_amd64.deb from a release
# build (docs/operations.md, "Install"). What it installs:
#   /usr/bin/vkhid                         the gateway and its commands (migrations, schemas and the
#                                          console are embedded)
#   /etc/vkhid/vkhid.toml                  a conffile with production defaults (ops/debian/vkhid.toml)
#   /lib/systemd/system/vkhid.service      the hardened Type=notify unit (ops/systemd)
#   /usr/share/vkhid/                      calendars, deadline rules, the classifier, notice templates,
#                                          alert rules and the dashboard
#   /usr/share/doc/vkhid/                  the operator's guide and the other docs
# The maintainer scripts (ops/debian) make the system user and its folders.
set(debian ${PROJECT_SOURCE_DIR}/ops/debian)
# `cpack` installs what scripts/package built (vkhid), never the whole tree with its tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS vkhid RUNTIME DESTINATION bin)
install(FILES ${debian}/vkhid.toml DESTINATION /etc/vkhid PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/ops/systemd/vkhid.service DESTINATION /lib/systemd/system)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/calendars ${PROJECT_SOURCE_DIR}/config/notifications
        DESTINATION share/vkhid)
install(FILES ${PROJECT_SOURCE_DIR}/config/deadlines.toml ${PROJECT_SOURCE_DIR}/config/classifier.toml
              ${PROJECT_SOURCE_DIR}/config/costs.toml ${PROJECT_SOURCE_DIR}/config/routes.example.toml
        DESTINATION share/vkhid)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/ops/prometheus ${PROJECT_SOURCE_DIR}/ops/grafana DESTINATION share/vkhid)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/privacy.md
              ${PROJECT_SOURCE_DIR}/docs/onboarding.md ${PROJECT_SOURCE_DIR}/docs/auditor-guide.md
              ${PROJECT_SOURCE_DIR}/docs/console.md ${PROJECT_SOURCE_DIR}/docs/participant-guide.md
              ${debian}/copyright DESTINATION share/doc/vkhid)
install(FILES ${PROJECT_SOURCE_DIR}/config/vkhid.toml DESTINATION share/doc/vkhid RENAME vkhid.toml.example)
# Debian's changelog, compressed as policy asks (gzip -9n: no name, no time stamp)
set(changelog_gz ${CMAKE_BINARY_DIR}/changelog.Debian.gz)
add_custom_command(OUTPUT ${changelog_gz} COMMAND gzip -9nc ${debian}/changelog > ${changelog_gz}
                   DEPENDS ${debian}/changelog VERBATIM)
add_custom_target(debian_changelog ALL DEPENDS ${changelog_gz})
install(FILES ${changelog_gz} DESTINATION share/doc/vkhid)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vkhid)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "Vkhid developers <vkhid@ucc.gov.ua>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "exchange gateway of Ukraine's single entry for citizens' appeals")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "Vkhid receives citizens' appeals, public-information requests and violence\n"
       "reports from the Government Contact Centre, delivers each as a signed SEV OVV\n"
       "1.5 package to the participant body's document system, collects receipts and\n"
       "answers, tracks legal deadlines and keeps evidence an auditor verifies offline.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://vkhid.example/")
# The shared libraries' packages found by dpkg-shlibdeps; what the maintainer scripts and the gateway
# run besides (the xmlsec OpenSSL engine is loaded at run time, so it is named).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libxmlsec1-openssl, tzdata, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-15, rabbitmq-server")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, softhsm2")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${debian}/conffiles ${debian}/postinst ${debian}/prerm ${debian}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
