// The `sev-hub` adapter (DESIGN §6): participants that exchange through the national SEV OVV 2.0 hub.
//   Outbound: the package is uploaded from the gateway's hub account in chunks of the hub's
//   MaxPartSize, with its SHA-256; delivered once the hub has processed it. A session the hub failed
//   (the whole did not match the hash) is uploaded again at once; an unreachable hub is a retry.
//   Inbound: the account's incoming messages are polled; each is downloaded in chunks and checked
//   against the hub's SHA-256, handed to the core, then ended as processed (or failed, with the
//   code the core refused it with). A crash before the end offers it again; the core's msg_id
//   de-duplication gives it one effect.
// Gateway settings: sevhub.url, system_id, password_file, ca_file, poll_interval_ms.
// Endpoint settings: sys_id (the participant's SystemId on the hub; default: the package's to_sys_id).
#pragma once

#include "adapters/adapter.hpp"
#include "adapters/sevhub/config.hpp"

namespace vkhid::adapters::sevhub {}  // namespace vkhid::adapters::sevhub
