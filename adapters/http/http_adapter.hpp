// The `http` adapter (DESIGN §6): HTTPS with mutual TLS, both ways.
//   Outbound: POST the package (application/xml) to the endpoint's `url`; the participant's server
//   certificate must chain to the endpoint's `ca_file` and carry `server_name` (default: the URL's
//   host); the gateway presents its own certificate (edms.tls_cert). 2xx = delivered; 408, 429, 5xx
//   and connection errors = retry (Retry-After honoured); any other 4xx = failed, the body kept.
//   Inbound: POST /edms/v1/messages on edms.listen, a client certificate required (edms.client_ca);
//   the participant is the one that certificate is registered for (tls_cert_file), and it must be
//   the package's from_org_id. 202 with the message id, or problem+json with the SEV code.
// Endpoint settings: url (required), ca_file (required), server_name (optional).
#pragma once

#include "adapters/adapter.hpp"
#include "adapters/http/config.hpp"

namespace vkhid::adapters::http {

inline constexpr const char* kInboundPath = "/edms/v1/messages";

}  // namespace vkhid::adapters::http
