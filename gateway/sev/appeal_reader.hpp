// The reverse of buildAppealPackage: an appeal package a participant sends in (msg_type=1, an appeal
// that reached its own contact centre) read back into a case for the UCC to register. Vkhid's own
// expansion is used when present; otherwise the standard zones alone suffice, as real EDMSs send them.
#pragma once

#include "gateway/domain/case.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/sev/model.hpp"

namespace vkhid::sev {

// Kind from the expansion, else from Document/@kind (Звернення громадянина, Запит на публічну
// інформацію, Повідомлення про насильство; anything else is an appeal); applicant from
// Author/PrivatePerson (none = anonymous); text from the first txt DocTransfer (else the title);
// every other DocTransfer an attachment. `channel`, ids and numbers are the caller's to set.
// Refused (SEV code 30, naming the element) when there is no Document or nothing to read as text.
Result<domain::Case> caseFromAppealPackage(const Header& h);

// A media type for a SEV DocTransfer/@type ("pdf" -> application/pdf); octet-stream when unknown.
std::string mediaTypeOfTransfer(const std::string& type);

}  // namespace vkhid::sev
