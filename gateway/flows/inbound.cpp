// Inbound: every package from a participant is identified by its transport, parsed, validated,
// signature-checked with that participant's trust and policy, de-duplicated by msg_id, matched to its
// case and applied — with our own receipts queued in the same transaction.
#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/case_status.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/appeal_reader.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

struct Peer {
  std::string org_id, name, sys_id, system;
  bool require_seal = true;
  bool accept_unsupported = false;
  std::string trust_pem;
  bool own_channel = false;  // its own contact centre's appeals come in through the exchange
};

void countInbound(const std::string& outcome) {
  app::metrics().counter("vkhid_inbound_total", "Packages received from participants", {{"outcome", outcome}}).inc();
}

// Seals and queues one of our receipts for a participant's message.
Status queueReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer, const std::string& their_msg_id,
                    sev::AckType type, const std::string& case_id, std::optional<sev::Rejection> rejection = {},
                    std::optional<sev::RegNumber> registration = {}) {
  std::string msg_id = newUuid();
  sev::Envelope env{
      ctx.ucc, {peer.org_id, peer.name, peer.sys_id, peer.system}, msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildReceipt(env, their_msg_id, type, registration, rejection);
  auto bytes = crypto::sealedPackage(header, ctx.signer);
  if (!bytes) return bytes.error();
  auto r = db.later(
      "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, "
      "status, error_code) VALUES ($1, 'out', NULLIF($2, '')::uuid, $3, 0, $4, $5::uuid, $6::bytea, $7, 'queued', $8)",
      {msg_id, case_id, peer.org_id, std::to_string(static_cast<int>(type)), their_msg_id, byteaHex(*bytes),
       sha256Hex(*bytes), rejection ? std::optional<std::string>(std::to_string(rejection->code)) : std::nullopt});
  if (!r) return r;
  return enqueueDelivery(db, peer.org_id, msg_id);
}

sev::Rejection rejectionFor(const Error& e) {
  auto code = sev::sevErrorOf(e).value_or(sev::SevError::SchemaInvalid);
  return {static_cast<int>(code), sev::sevErrorInfo(code).errortext};
}

// The competent body a not-in-competence rejection names: our forwarding notice when the participant
// added one, else the one EDRPOU code (8 digits standing alone) in the error text.
std::string competentBodyOf(const sev::Header& h) {
  if (h.expansion && h.expansion->notice && h.expansion->notice->competent_org_id) {
    return *h.expansion->notice->competent_org_id;
  }
  if (!h.acknowledgement || h.acknowledgement->results.empty()) return {};
  const std::string& text = h.acknowledgement->results.front().errortext;
  std::string found;
  int codes = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == 8) {
      found = text.substr(i, 8);
      ++codes;
    }
    i = j;
  }
  return codes == 1 ? found : std::string();
}

// Not in the participant's competence: the case leaves it for good. To the competent body when that is
// an active participant that has not declined it already, else to the UCC review queue; the applicant
// is told either way.
Status forwardCase(store::PgConnection& db, const Peer& peer, const std::string& case_id, const std::string& from,
                   const std::string& competent, const std::string& msg_id, std::string& outcome) {
  auto target = db.exec(
      "SELECT 1 FROM participant p, cases c WHERE p.org_id = $1 AND p.status = 'active' AND c.id = vkhid_uuid($2) "
      "AND NOT (p.org_id = ANY (c.declined_by)) AND c.kind = ANY (p.kinds)",
      {competent, case_id});
  if (!target) return target.error();
  bool known = target->rows() > 0 && competent != peer.org_id;
  auto u = db.exec(
      "UPDATE cases SET status = 'forwarded', addressee_org_id = NULLIF($2, ''), participant_org_id = NULL, "
      "participant_reg_number = NULL, participant_reg_date = NULL, declined_by = array_append(declined_by, $3), "
      "updated_at = now() WHERE id = vkhid_uuid($1)",
      {case_id, known ? competent : std::string(), peer.org_id});
  if (!u) return u.error();
  json::object detail{{"msg_id", msg_id}, {"from_participant", peer.org_id}, {"to", known ? "participant" : "review"}};
  if (!competent.empty()) detail["competent_org_id"] = competent;
  if (auto s = recordEvent(db, case_id, "participant:" + peer.org_id, "forwarded", from, "forwarded",
                           json::serialize(detail));
      !s) {
    return s;
  }
  json::object event{{"case_id", case_id}};
  auto code = db.exec("SELECT tracking_code FROM cases WHERE id = vkhid_uuid($1)", {case_id});
  if (!code) return code.error();
  json::object notice{{"case_id", case_id}, {"tracking_code", code->get(0, 0)}};
  if (auto s = enqueueOutbox(db, bus::names::kNotifications, "applicant.forwarded", case_id + ":forwarded:" + msg_id,
                             json::serialize(notice));
      !s) {
    return s;
  }
  outcome = known ? "forwarded" : "forwarded_to_review";
  // A participant is re-routed to; anyone else means a person decides.
  return enqueueOutbox(db, bus::names::kEvents, known ? "case.forwarded" : "case.unrouted", case_id + ":" + msg_id,
                       json::serialize(event));
}

}  // namespace

Status Exchange::receive(const adapters::InboundPackage& package) {
  auto& ctx = context_;
  auto db = ctx.pool.acquire();
  if (!db) return db.error();

  // 1. Who sent it, by what the transport vouches for.
  // The broker's validated user (amqp), or the TLS client certificate registered for it (http).
  const bool by_certificate = package.peer_identity.starts_with("tls:");
  // An endpoint that vouches for its organisation: a folder only it writes to, a hub account the hub
  // authenticated ("endpoint:<adapter>:<org>").
  const bool by_endpoint = package.peer_identity.starts_with("endpoint:");
  std::string endpoint_adapter, vouched_org;
  if (by_endpoint) {
    auto colon = package.peer_identity.find(':', 9);
    endpoint_adapter = package.peer_identity.substr(9, colon == std::string::npos ? 0 : colon - 9);
    vouched_org = colon == std::string::npos ? "" : package.peer_identity.substr(colon + 1);
  }
  auto p = (*db)->exec(
      std::string("SELECT org_id, name, sys_id, system_name, require_seal, accept_unsupported_signatures, trust_pem, "
                  "own_channel, (SELECT coalesce(string_agg(sha256, ','), '') FROM participant_cert c WHERE c.org_id "
                  "= p.org_id AND c.purpose = 'seal' AND (c.retire_after IS NULL OR c.retire_after > now())) "
                  "FROM participant p WHERE status IN ('active', 'pending_check', 'suspended') AND ") +
          (by_certificate ? "EXISTS (SELECT 1 FROM participant_cert t WHERE t.org_id = p.org_id AND t.purpose = 'tls' "
                            "AND t.sha256 = $1 AND (t.retire_after IS NULL OR t.retire_after > now()))"
           : by_endpoint
               ? "p.org_id = $1 AND EXISTS (SELECT 1 FROM endpoint e WHERE e.org_id = p.org_id AND e.active AND "
                 "e.adapter = $2)"
               : "transport_user = $1"),
      by_certificate ? std::vector<store::PgParam>{package.peer_identity.substr(4)}
      : by_endpoint  ? std::vector<store::PgParam>{vouched_org, endpoint_adapter}
                     : std::vector<store::PgParam>{package.peer_identity});
  if (!p) return p.error();
  if (p->rows() == 0) {
    countInbound("unknown_sender");
    log::warn("package from an unknown transport identity dropped", {{"adapter", package.adapter}});
    if (package.verdict) {
      *package.verdict = {false,
                          static_cast<int>(sev::SevError::UnknownSender),
                          "the transport identity is not registered for any participant",
                          {}};
    }
    return {};
  }
  Peer peer{std::string(p->get(0, 0)), std::string(p->get(0, 1)), std::string(p->get(0, 2)), std::string(p->get(0, 3)),
            p->get(0, 4) == "t",       p->get(0, 5) == "t",       std::string(p->get(0, 6)), p->get(0, 7) == "t"};
  const std::string pinned(p->get(0, 8));  // registered seal certificates, when any

  // 2. Parse, validate, verify: nothing reads the package before this.
  auto trust = ctx.trustFor(peer.trust_pem);
  crypto::VerifyOptions options;
  options.require_seal = peer.require_seal;
  options.allow_unsupported = peer.accept_unsupported;
  auto report = crypto::verifyPackage(package.bytes, *trust, options);
  const std::string sha = sha256Hex(package.bytes);
  if (!pinned.empty() && report.header && report.seal.valid() &&
      ("," + pinned + ",").find("," + report.seal.signer_sha256 + ",") == std::string::npos) {
    // Chained to a trusted CA, but not a certificate registered for this participant (or its
    // rotation overlap has ended).
    report.findings.push_back(sev::sevError(sev::SevError::SignerUntrusted,
                                            "the seal's certificate " + report.seal.signer_sha256.substr(0, 16) +
                                                "… is not registered for participant " + peer.org_id));
    report.seal.state = crypto::SignatureState::Untrusted;
  }

  if (!report.header) {
    // Unreadable: kept as evidence under an id of our own; there is no msg_id to answer.
    auto r = (*db)->exec(
        "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, bytes, sha256, status, error_code, last_error) "
        "VALUES ($1, 'in', $2, -1, $3::bytea, $4, 'rejected', $5, $6)",
        {newUuid(), peer.org_id, byteaHex(package.bytes), sha,
         std::to_string(static_cast<int>(sev::sevErrorOf(report.findings.front()).value_or(sev::SevError::Malformed))),
         report.findings.front().message});
    countInbound("unreadable");
    if (package.verdict && r) {
      *package.verdict = {false,
                          static_cast<int>(sev::sevErrorOf(report.findings.front()).value_or(sev::SevError::Malformed)),
                          report.findings.front().message,
                          {}};
    }
    return r ? Status() : Status(r.error());
  }
  const sev::Header& h = *report.header;
  if (!isUuid(h.msg_id)) {
    report.findings.push_back(sev::sevError(sev::SevError::BadHeaderAttribute, "msg_id must be a UUID"));
  }
  if (h.from_org_id != peer.org_id) {
    report.findings.push_back(sev::sevError(sev::SevError::SignerNotSender,
                                            "from_org_id " + h.from_org_id + " is not the connected participant"));
  }
  if (h.to_org_id != ctx.ucc.org_id) {
    report.findings.push_back(sev::sevError(sev::SevError::UnknownRecipient, "to_org_id " + h.to_org_id));
  }
  const bool answer_always = h.msg_acknow.value_or(0) == 2;
  const bool answer_errors = h.msg_acknow.value_or(0) >= 1;

  std::string outcome;
  std::pair<int, std::string> refusal{0, {}};  // the SEV code and reason when refused
  std::optional<domain::Case> registered;
  auto apply = [&]() -> Status {
    outcome.clear();
    refusal = {0, {}};
    registered.reset();
    // 3. Seen before? Same bytes: the same receipts again. Other bytes under the same id: refused.
    if (isUuid(h.msg_id)) {
      auto seen = (*db)->exec("SELECT sha256 FROM message WHERE msg_id = $1::uuid", {h.msg_id});
      if (!seen) return seen.error();
      if (seen->rows() > 0) {
        if (seen->get(0, 0) == sha) {
          outcome = "duplicate";
          auto again = (*db)->exec(
              "UPDATE message SET status = 'queued', updated_at = now() WHERE direction = 'out' AND ref_msg_id = "
              "$1::uuid "
              "AND status IN ('sent', 'dead') RETURNING msg_id::text",
              {h.msg_id});
          if (!again) return again.error();
          for (int i = 0; i < again->rows(); ++i) {
            std::string id(again->get(i, 0));
            if (auto s = enqueueDelivery(**db, peer.org_id, id); !s) {
              return s;
            }
          }
          return {};
        }
        outcome = "conflicting_duplicate";
        refusal = {static_cast<int>(sev::SevError::DuplicateMsgIdDifferentContent),
                   "msg_id " + h.msg_id + " was received before with other content"};
        if (!answer_errors) return {};
        return queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Rejected, "",
                            rejectionFor(sev::sevError(sev::SevError::DuplicateMsgIdDifferentContent, "")));
      }
    }

    // 4. Refused: recorded with its reason, the case untouched, a rejection receipt when asked.
    std::string seal = crypto::signatureStateName(report.seal.state);
    if (!report.ok()) {
      outcome = "rejected";
      const Error& first = report.findings.front();
      refusal = {rejectionFor(first).code, first.message};
      auto r = (*db)->exec(
          "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, ack_type, bytes, sha256, status, "
          "seal_verdict, error_code, last_error, ref_msg_id) VALUES ($1, 'in', $2, $3, $4, $5::bytea, $6, 'rejected', "
          "$7, $8, $9, vkhid_uuid($10))",
          {isUuid(h.msg_id) ? h.msg_id : newUuid(), peer.org_id, std::to_string(h.msg_type),
           h.acknowledgement ? std::optional<std::string>(std::to_string(h.acknowledgement->ack_type)) : std::nullopt,
           byteaHex(package.bytes), sha, seal, std::to_string(static_cast<int>(rejectionFor(first).code)),
           first.message, h.acknowledgement ? h.acknowledgement->msg_id : std::string()});
      if (!r) return r.error();
      if (!answer_errors || !isUuid(h.msg_id)) return {};
      return queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Rejected, "", rejectionFor(first));
    }

    // 5. Apply.
    std::string case_id, ref_msg_id, kind_of_effect;
    std::optional<Error> mismatch;
    std::optional<sev::RegNumber> ucc_registration;  // a participant's appeal registered as a UCC case
    if (h.msg_type == 0 && h.acknowledgement) {
      const auto& ack = *h.acknowledgement;
      ref_msg_id = ack.msg_id;
      auto ours = (*db)->exec(
          "SELECT coalesce(case_id::text, ''), msg_type FROM message WHERE msg_id = vkhid_uuid($1) AND direction = "
          "'out' "
          "AND peer_org_id = $2",
          {ack.msg_id, peer.org_id});
      if (!ours) return ours.error();
      if (ours->rows() == 0) {
        mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "Acknowledgement msg_id " + ack.msg_id);
      } else {
        case_id = std::string(ours->get(0, 0));
        kind_of_effect = "receipt";
        if (ours->getInt(0, 1) == 1 && !case_id.empty()) {
          auto c = (*db)->exec(
              "SELECT status, coalesce(participant_org_id, '') FROM cases WHERE id = vkhid_uuid($1) FOR UPDATE",
              {case_id});
          if (!c) return c.error();
          std::string from(c->get(0, 0));
          const bool current = c->get(0, 1) == peer.org_id;
          const bool not_competent = ack.ack_type == 4 && !ack.results.empty() &&
                                     ack.results.front().errorcode == static_cast<int>(sev::SevError::NotInCompetence);
          if (!current) {
            // The case has moved on (forwarded): a late receipt is recorded, the case left as it is.
            kind_of_effect = "late_receipt";
            if (auto s = recordEvent(**db, case_id, "participant:" + peer.org_id, "late_receipt", from, from,
                                     json::serialize(json::object{{"msg_id", h.msg_id}, {"ack_type", ack.ack_type}}));
                !s) {
              return s;
            }
          } else if (not_competent) {
            if (auto s = forwardCase(**db, peer, case_id, from, competentBodyOf(h), h.msg_id, kind_of_effect); !s) {
              return s;
            }
          } else {
            auto to =
                domain::afterReceipt(domain::caseStatusFromName(from).value_or(domain::CaseStatus::Sent), ack.ack_type);
            std::string to_name = domain::caseStatusName(to);
            std::optional<std::string> reg_no, reg_date, rej_code, rej_text;
            if (ack.ack_type == 3 && ack.reg_number) {
              reg_no = ack.reg_number->value;
              reg_date = ack.reg_number->regdate;
            }
            if (ack.ack_type == 4 && !ack.results.empty()) {
              rej_code = std::to_string(ack.results.front().errorcode);
              rej_text = ack.results.front().errortext;
            }
            auto u = (*db)->later(
                "UPDATE cases SET status = $2, participant_reg_number = coalesce($3, participant_reg_number), "
                "participant_reg_date = coalesce($4::date, participant_reg_date), rejection_code = coalesce($5::int, "
                "rejection_code), rejection_text = coalesce($6, rejection_text), updated_at = now() WHERE id = "
                "vkhid_uuid($1)",
                {case_id, to_name, reg_no, reg_date, rej_code, rej_text});
            if (!u) return u;
            json::object detail{{"msg_id", h.msg_id}, {"ack_type", ack.ack_type}};
            if (reg_no) detail["participant_reg_number"] = *reg_no;
            if (rej_code) detail["error_code"] = std::stoi(*rej_code);
            if (auto s = recordEvent(**db, case_id, "participant:" + peer.org_id,
                                     "receipt_" + std::to_string(ack.ack_type), from, to_name, json::serialize(detail));
                !s) {
              return s;
            }
            if (auto s = cancelTransportTimers(**db, case_id, ack.msg_id, ack.ack_type); !s) return s;
          }
        }
      }
    } else if (h.msg_type == 0 && h.expansion && h.expansion->notice) {
      const auto& n = *h.expansion->notice;
      ref_msg_id = n.ref_msg_id.value_or("");
      auto c = (*db)->exec("SELECT status FROM cases WHERE id = vkhid_uuid($1) AND participant_org_id = $2 FOR UPDATE",
                           {n.case_id, peer.org_id});
      if (!c) return c.error();
      if (c->rows() == 0) {
        mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id);
      } else {
        case_id = n.case_id;
        kind_of_effect = "notice";
        std::string from(c->get(0, 0));
        if (n.kind == "forwarding") {
          if (auto st =
                  forwardCase(**db, peer, case_id, from, n.competent_org_id.value_or(""), h.msg_id, kind_of_effect);
              !st) {
            return st;
          }
        } else {
          // An extension: within the legal cap, or refused with its code and the case left as it was.
          auto new_due = n.new_due ? domain::parseInstant(*n.new_due) : std::nullopt;
          if (!new_due) {
            mismatch = sev::sevError(sev::SevError::BadAttribute, "Notice/@new_due: a date-time is required");
          } else if (auto s = extendAnswerDeadline(**db, ctx.legal, case_id, *new_due, "participant:" + peer.org_id);
                     !s) {
            if (!sev::sevErrorOf(s.error())) return s;
            mismatch = s.error();
          } else {
            kind_of_effect = "extension";
          }
        }
      }
    } else if (h.msg_type == 3 && h.document) {
      std::string referred_number;
      for (const auto& a : h.document->addressees) {
        for (const auto& r : a.referred) {
          if (const auto* reg = std::get_if<sev::RegNumber>(&r.number)) referred_number = reg->value;
        }
      }
      auto c = (*db)->exec(
          "SELECT id::text, status, tracking_code FROM cases WHERE ucc_number = $1 AND participant_org_id = $2 "
          "FOR UPDATE",
          {referred_number, peer.org_id});
      if (!c) return c.error();
      if (c->rows() == 0) {
        mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "Referred RegNumber " + referred_number);
      } else {
        case_id = std::string(c->get(0, 0));
        kind_of_effect = "answer";
        std::string from(c->get(0, 1));
        auto to = domain::afterAnswer(domain::caseStatusFromName(from).value_or(domain::CaseStatus::Sent));
        std::string to_name = domain::caseStatusName(to);
        auto u = (*db)->later(
            "UPDATE cases SET status = $2, answer_msg_id = $3::uuid, updated_at = now() WHERE id = vkhid_uuid($1)",
            {case_id, to_name, h.msg_id});
        if (!u) return u;
        json::object detail{{"msg_id", h.msg_id}, {"participant_reg_number", h.document->reg_number.value}};
        if (auto s = recordEvent(**db, case_id, "participant:" + peer.org_id, "answered", from, "answered",
                                 json::serialize(detail));
            !s) {
          return s;
        }
        if (to_name == "closed") {
          if (auto s = recordEvent(**db, case_id, "gateway", "closed", "answered", "closed"); !s) return s;
        }
        if (auto s = cancelTimersOfSettledCase(**db, case_id); !s) return s;
        if (auto s = enqueueOutbox(
                **db, bus::names::kNotifications, "applicant.answered", case_id + ":answered",
                json::serialize(json::object{{"case_id", case_id}, {"tracking_code", std::string(c->get(0, 2))}}));
            !s) {
          return s;
        }
      }
    } else if (h.msg_type == 1 && h.document && peer.own_channel) {
      // An appeal that reached the participant's own contact centre: a new UCC case, routed like any other.
      auto kase = sev::caseFromAppealPackage(h);
      if (!kase) {
        mismatch = kase.error();
      } else {
        kase->channel = "participant:" + peer.org_id;
        auto reg = registerCase(**db, ctx.legal, *kase, caseToJson(*kase), "participant:" + peer.org_id, h.msg_id, sha,
                                "participant:" + peer.org_id);
        if (!reg) return reg.error();
        case_id = reg->case_id;
        kind_of_effect = "appeal";
        registered = std::move(kase).value();
        json::object detail{{"msg_id", h.msg_id}, {"participant_reg_number", h.document->reg_number.value}};
        if (auto s = recordEvent(**db, case_id, "participant:" + peer.org_id, "received_from_participant", "registered",
                                 "registered", json::serialize(detail));
            !s) {
          return s;
        }
        ucc_registration = sev::RegNumber{reg->ucc_number, reg->registered_on, std::nullopt};
      }
    } else {
      mismatch = sev::sevError(sev::SevError::ZoneNotAllowed,
                               "msg_type " + std::to_string(h.msg_type) + " is not taken from this participant");
    }

    if (mismatch) {
      outcome = "rejected";
      refusal = {rejectionFor(*mismatch).code, mismatch->message};
      auto r = (*db)->exec(
          "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, bytes, sha256, status, seal_verdict, "
          "error_code, "
          "last_error) VALUES ($1::uuid, 'in', $2, $3, $4::bytea, $5, 'rejected', $6, $7, $8)",
          {h.msg_id, peer.org_id, std::to_string(h.msg_type), byteaHex(package.bytes), sha, seal,
           std::to_string(rejectionFor(*mismatch).code), mismatch->message});
      if (!r) return r.error();
      if (!answer_errors) return {};
      return queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Rejected, "", rejectionFor(*mismatch));
    }

    outcome = kind_of_effect;
    auto ins = (*db)->later(
        "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, "
        "status, seal_verdict) VALUES ($1::uuid, 'in', NULLIF($2, '')::uuid, $3, $4, $5, "
        "vkhid_uuid($6), $7::bytea, $8, 'applied', $9)",
        {h.msg_id, case_id, peer.org_id, std::to_string(h.msg_type),
         h.acknowledgement ? std::optional<std::string>(std::to_string(h.acknowledgement->ack_type)) : std::nullopt,
         ref_msg_id, byteaHex(package.bytes), sha, seal});
    if (!ins) return ins;
    if (h.acknowledgement) {
      const auto& ack = *h.acknowledgement;
      auto rr = (*db)->later(
          "INSERT INTO receipt (receipt_msg_id, msg_id, ack_type, reg_number, reg_date, error_code, error_text) "
          "VALUES ($1::uuid, lower($2)::uuid, $3, $4, $5::date, $6, $7)",
          {h.msg_id, ack.msg_id, std::to_string(ack.ack_type),
           ack.reg_number ? std::optional<std::string>(ack.reg_number->value) : std::nullopt,
           ack.reg_number ? std::optional<std::string>(ack.reg_number->regdate) : std::nullopt,
           ack.results.empty() ? std::nullopt
                               : std::optional<std::string>(std::to_string(ack.results.front().errorcode)),
           ack.results.empty() ? std::nullopt : std::optional<std::string>(ack.results.front().errortext)});
      if (!rr) return rr;
    }
    if (!answer_always) return {};
    if (auto s = queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Delivered, case_id); !s) return s;
    if (h.msg_type == 0) return {};
    if (auto s = queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Accepted, case_id); !s) return s;
    if (!ucc_registration) return {};
    return queueReceipt(ctx, **db, peer, h.msg_id, sev::AckType::Registered, case_id, std::nullopt, ucc_registration);
  };
  Status done = store::inTransaction(**db, apply);
  // The same msg_id committed a moment ago by another consumer (the broker redelivered the message to a
  // second gateway while the first still handled it): once more, and it is seen as the duplicate it is.
  if (!done && done.error().kind == ErrorKind::Conflict) done = store::inTransaction(**db, apply);
  if (!done) {
    log::warn("inbound package not handled, the transport keeps it",
              {{"participant", peer.org_id}, {"error", done.error().message}});
    return done;
  }
  countInbound(outcome);
  if (registered) countRegistered(*registered);
  if (package.verdict) *package.verdict = {refusal.first == 0, refusal.first, refusal.second, h.msg_id};
  return {};
}

}  // namespace vkhid::flows
