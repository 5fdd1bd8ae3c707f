// A signature's verdict as JSON, the one form the message record, the answer API, the console and
// `vkhid package inspect --json` all show: state and SEV code, signer, provider, key, algorithm, the
// time the signer states and the time it was judged at (and by what).
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "gateway/crypto/verdict.hpp"

namespace vkhid::flows {

// `idnumber`: the DocTransfer the signature is over (left out when empty, as for a package seal).
boost::json::object signatureJson(const std::string& idnumber, const crypto::SignatureVerdict& v);

}  // namespace vkhid::flows
