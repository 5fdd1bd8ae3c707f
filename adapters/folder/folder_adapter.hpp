// The `folder` adapter (DESIGN §6): a shared folder per direction, for EDMSs that exchange files.
//   Outbound: `<msg_id>.xml` written into the endpoint's `outgoing` folder atomically — a temporary
//   name, fsync, rename, fsync of the folder — so a reader never sees a half-written file under the
//   final name.
//   Inbound: the `incoming` folder is polled; a file is taken once it is complete: named `*.xml` (the
//   writer renames it in when done, the convention this adapter follows too) and of the same size on
//   two looks. Handled, it moves to `incoming/done/`; refused, to `incoming/rejected/` with
//   `<name>.error.txt` beside it saying why. A restart in the middle offers a file again at most
//   once more, and the core's msg_id de-duplication gives it one effect.
// Endpoint settings: outgoing, incoming (folders; created when missing).
#pragma once

#include "adapters/adapter.hpp"
#include "adapters/folder/config.hpp"

namespace vkhid::adapters::folder {

// Writes `bytes` as `dir/name` atomically (temporary file, fsync, rename, fsync of `dir`).
Status writeAtomically(const std::string& dir, const std::string& name, std::string_view bytes);

}  // namespace vkhid::adapters::folder
