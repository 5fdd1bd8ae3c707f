// Inbound: every package from a participant is identified by its transport, parsed, validated,
// signature-checked with that participant's trust and policy, de-duplicated by msg_id, matched to its
// case and applied — with our own receipts queued in the same transaction. Each kind of message has its
// handler (flows/inbound_apply.cpp: receipt, notice, answer, the participant's own appeal); what a late,
// repeated or conflicting one may change is decided in domain/case_status.
#include "gateway/flows/inbound.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>

#include "gateway/app/logging.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/inbound_apply.hpp"
#include "gateway/flows/inbound_decisions.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using namespace inbound;

// What became of one package: how it is counted, and what the transport tells the sender.
struct Handling {
  std::string outcome;
  std::pair<int, std::string> refusal{0, {}};  // the SEV code and reason when refused
  std::optional<domain::Case> registered;      // a participant's own appeal registered as a case
};

// Parses, validates and verifies the package with the peer's trust and policy — nothing reads it before
// this — and checks what the signature cannot: a registered seal, the sender, the addressee.
crypto::PackageReport verifyArrival(ExchangeContext& ctx, const Peer& peer, const std::string& bytes) {
  auto trust = ctx.trustFor(peer.trust_pem, peer.trust_list);
  crypto::VerifyOptions options;
  options.require_seal = peer.require_seal;
  options.limits.max_bytes = static_cast<std::size_t>(ctx.config.edms.max_package_bytes);
  auto report = crypto::verifyPackage(bytes, *trust, options);
  if (!peer.pinned.empty() && report.header && report.seal.valid() &&
      ("," + peer.pinned + ",").find("," + report.seal.signer_sha256 + ",") == std::string::npos) {
    // Chained to a trusted CA, but not a certificate registered for this participant (or its
    // rotation overlap has ended).
    report.findings.push_back(sev::sevError(sev::SevError::SignerNotRegistered,
                                            "the seal's certificate " + report.seal.signer_sha256.substr(0, 16) +
                                                "… is not registered for participant " + peer.org_id));
    report.seal.state = crypto::SignatureState::Untrusted;
  }
  if (!report.header) return report;
  const sev::Header& h = *report.header;
  if (!isUuid(h.msg_id)) {
    report.findings.push_back(sev::sevError(sev::SevError::BadHeaderAttribute, "msg_id must be a UUID"));
  }
  if (h.from_org_id != peer.org_id) {
    report.findings.push_back(sev::sevError(sev::SevError::SignerNotSender,
                                            "from_org_id " + h.from_org_id + " is not the connected participant"));
  }
  // Addressed to this gateway: its organisation, and its system.
  if (h.to_org_id != ctx.ucc.org_id) {
    report.findings.push_back(
        sev::sevError(sev::SevError::UnknownRecipient, "to_org_id " + h.to_org_id + " is not " + ctx.ucc.org_id));
  } else if (h.to_sys_id != ctx.ucc.sys_id) {
    report.findings.push_back(
        sev::sevError(sev::SevError::WrongRecipientSystem, "to_sys_id " + h.to_sys_id + " is not " + ctx.ucc.sys_id));
  }
  return report;
}

// One package inside its transaction, from the de-duplication on.
class Applying {
 public:
  Applying(ExchangeContext& ctx, store::PgConnection& db, store::InboundRows& rows, const Peer& peer,
           const adapters::InboundPackage& package, const crypto::PackageReport& report, std::string sha)
      : ctx_(ctx),
        db_(db),
        rows_(rows),
        peer_(peer),
        package_(package),
        report_(report),
        h_(*report.header),
        sha_(std::move(sha)) {}

  Status run(Handling& out) {
    out = Handling{};
    bool seen = false;
    if (auto s = seenBefore(out, seen); !s || seen) return s;
    auto done = report_.ok() ? apply(out) : refuse(out, report_.findings.front());
    // Recorded under its msg_id, applied or refused (an id that is not a UUID was recorded under one of ours).
    if (done && isUuid(h_.msg_id)) rows_.recorded(h_.msg_id, sha_);
    return done;
  }

 private:
  // The same msg_id has its answer already: the receipts it got are sent again, whatever the bytes. Other
  // bytes under a known id are kept as evidence, refused (131) and alerted — never with a rejection
  // receipt, which would contradict the receipts that msg_id already has.
  Status seenBefore(Handling& out, bool& seen) {
    auto repeat = decideRepeat(rows_, h_.msg_id, sha_);
    if (!repeat) return repeat.error();
    if (*repeat == Repeat::None) return {};
    seen = true;
    const bool same = *repeat == Repeat::SameBytes;
    out.outcome = same ? "duplicate" : "conflicting_duplicate";
    auto again = store::requeueReceiptsFor(db_, h_.msg_id);
    if (!again) return again.error();
    if (auto s = enqueueDeliveries(db_, peer_.org_id, *again); !s) return s;
    if (same) return {};
    out.refusal = {static_cast<int>(sev::SevError::DuplicateMsgIdDifferentContent),
                   "msg_id " + h_.msg_id + " was received before with other content; the receipts it got stand"};
    auto kept = store::MessageRecord::of(newUuid(), "in", "", peer_.org_id, h_.msg_type);
    kept.bytes = package_.bytes;
    kept.sha256 = sha_;
    kept.status = "rejected";
    kept.ref_msg_id = h_.msg_id;
    kept.error_code = out.refusal.first;
    kept.last_error = out.refusal.second;
    if (auto s = store::insertMessage(db_, kept); !s) return s;
    return alertOf(db_, "inbound.conflicting_duplicate", "conflict:" + sha_,
                   json::object{{"org_id", peer_.org_id}, {"msg_id", h_.msg_id}});
  }

  // Refused: recorded with its reason, the case untouched, a rejection receipt when asked.
  Status refuse(Handling& out, const Error& why) {
    out.outcome = "rejected";
    out.refusal = {rejectionFor(why).code, why.message};
    auto refused = record(isUuid(h_.msg_id) ? h_.msg_id : newUuid(), "rejected");
    refused.ref_msg_id = h_.acknowledgement ? h_.acknowledgement->msg_id : std::string();
    refused.error_code = out.refusal.first;
    refused.last_error = why.message;
    if (auto s = store::insertMessage(db_, refused); !s) return s;
    if (h_.msg_acknow.value_or(0) < 1 || !isUuid(h_.msg_id)) return {};
    return queueReceipt(ctx_, db_, peer_, h_.msg_id, sev::AckType::Rejected, "", rejectionFor(why));
  }

  // Applied by its kind's handler, recorded, and answered with our receipts when the sender asks.
  Status apply(Handling& out) {
    Arrival a{ctx_, db_, peer_, h_, rows_, {}, {}, {}, {}, {}, {}, true};
    if (auto s = dispatch(a); !s) return s;
    if (a.mismatch) return refuse(out, *a.mismatch);
    out.registered = std::move(a.registered);
    out.outcome = a.effect;
    auto applied = record(h_.msg_id, "applied");
    applied.case_id = a.case_id;
    applied.ref_msg_id = a.ref_msg_id;
    if (h_.acknowledgement && a.record_receipt) applied.receipt = receiptFields();
    if (auto s = store::insertMessage(db_, applied, store::Write::Queued); !s) return s;
    if (h_.msg_acknow.value_or(0) != 2) return {};
    // Our receipts for it — delivered; accepted unless it is a receipt itself; registered when we registered
    // it — leave as one delivery job, in that order.
    std::vector<std::string> receipts;
    auto add = [&](sev::AckType type, std::optional<sev::RegNumber> registration = {}) -> Status {
      auto id = recordReceipt(ctx_, db_, peer_, h_.msg_id, type, a.case_id, std::nullopt, std::move(registration));
      if (!id) return id.error();
      receipts.push_back(std::move(*id));
      return {};
    };
    if (auto s = add(sev::AckType::Delivered); !s) return s;
    if (h_.msg_type != 0) {
      if (auto s = add(sev::AckType::Accepted); !s) return s;
      if (a.ucc_registration) {
        if (auto s = add(sev::AckType::Registered, a.ucc_registration); !s) return s;
      }
    }
    return enqueueDeliveries(db_, peer_.org_id, receipts);
  }

  // One handler per kind of message; anything else is not taken from a participant.
  Status dispatch(Arrival& a) {
    if (h_.msg_type == 0 && h_.acknowledgement) return applyReceipt(a);
    Status s = dispatchOther(a);
    // A reply changes its own case alone of what a receipt reads (its group's members get an event each):
    // the batch reads that case again. A notice may change others (a group's next lead when its lead is
    // returned): every case the batch remembers is read again after it.
    if (h_.msg_type == 3 && h_.document) {
      if (!a.case_id.empty()) a.rows.forgetCase(a.case_id);
    } else {
      a.rows.forgetCases();
    }
    return s;
  }

  Status dispatchOther(Arrival& a) {
    if (h_.msg_type == 0 && h_.expansion && h_.expansion->notice) return applyNotice(a);
    if (h_.msg_type == 3 && h_.document) return applyReply(a);
    if (h_.msg_type == 1 && h_.document && peer_.own_channel) return applyOwnAppeal(a, sha_);
    a.mismatch = sev::sevError(sev::SevError::ZoneNotAllowed,
                               "msg_type " + std::to_string(h_.msg_type) + " is not taken from this participant");
    return {};
  }

  // What the receipt says, recorded in its row with it (migration 0034).
  store::ReceiptFields receiptFields() const {
    const auto& ack = *h_.acknowledgement;
    store::ReceiptFields r;
    if (ack.reg_number) {
      r.reg_number = ack.reg_number->value;
      r.reg_date = registrationDay(*ack.reg_number);
    }
    if (!ack.results.empty()) {
      r.error_code = ack.results.front().errorcode;
      r.error_text = ack.results.front().errortext;
    }
    return r;
  }

  // The package as received, with its verdicts, to be recorded under `msg_id` as `status`.
  store::MessageRecord record(const std::string& msg_id, const char* status) const {
    auto m = store::MessageRecord::of(msg_id, "in", "", peer_.org_id, h_.msg_type);
    if (h_.acknowledgement) m.ack_type = h_.acknowledgement->ack_type;
    m.bytes = package_.bytes;
    m.sha256 = sha_;
    m.status = status;
    m.seal_verdict = crypto::signatureStateName(report_.seal.state);
    m.signatures_json = signaturesJson(report_);
    return m;
  }

  ExchangeContext& ctx_;
  store::PgConnection& db_;
  store::InboundRows& rows_;
  const Peer& peer_;
  const adapters::InboundPackage& package_;
  const crypto::PackageReport& report_;
  const sev::Header& h_;
  const std::string sha_;
};

}  // namespace

Status InboundHandler::receive(const adapters::InboundPackage& package) {
  auto& ctx = context_;
  auto db = ctx.pool.acquire();
  if (!db) return db.error();
  auto refuse = [&](int code, const std::string& detail) {
    if (package.verdict) *package.verdict = {false, code, detail, {}};
  };

  // 1. Who sent it.
  // By what the transport vouches for: the broker's validated user (amqp), the TLS client certificate
  // registered for it (http), or an endpoint that vouches for its organisation — a folder only it writes
  // to, a hub account the hub authenticated ("endpoint:<adapter>:<org>"). Read in the transaction that
  // then keeps or applies the package: one commit a package (issue 25), and the peer it is judged by
  // is the one its effects are written against. Nothing is locked while it is verified.
  if (auto s = (**db).begin(); !s) return s;
  auto found = store::findPeer(**db, package.peer_identity);
  if (!found) {
    (void)(**db).rollback();
    return found.error();
  }
  if (!*found) {
    (void)(**db).rollback();
    countInbound("unknown_sender");
    log::warn("package from an unknown transport identity dropped", {{"adapter", package.adapter}});
    refuse(static_cast<int>(sev::SevError::UnknownSender),
           "the transport identity is not registered for any participant");
    return {};
  }
  const Peer& peer = **found;

  // 2. A transfer its transport could not verify: kept, refused, and told to the UCC; never read.
  if (!package.transfer_problem.empty()) {
    auto why = sev::sevError(sev::SevError::TransferUnverified, package.transfer_problem);
    Status kept = store::finishTransaction(**db, [&]() -> Status {
      if (auto s = keepUnread(**db, peer, package.bytes, why); !s) return s;
      return alertOf(**db, "inbound.transfer_unverified", "transfer:" + sha256Hex(package.bytes),
                     json::object{{"org_id", peer.org_id}, {"adapter", package.adapter}, {"reason", why.message}});
    });
    if (!kept) return kept;
    countInbound("transfer_unverified");
    refuse(static_cast<int>(sev::SevError::TransferUnverified), why.message);
    return {};
  }

  // 3. Parse, validate, verify: nothing reads the package before this (and nothing over the size limit
  // is parsed at all).
  const auto report = verifyArrival(ctx, peer, package.bytes);
  if (!report.header) {
    const Error& why = report.findings.front();
    if (auto s = store::finishTransaction(**db, [&] { return keepUnread(**db, peer, package.bytes, why); }); !s) {
      return s;
    }
    countInbound("unreadable");
    refuse(static_cast<int>(sev::sevErrorOf(why).value_or(sev::SevError::Malformed)), why.message);
    return {};
  }

  // 4–6. Seen before, refused, or applied by its kind — in one transaction.
  store::PgInboundRows rows(**db);
  Applying applying(ctx, **db, rows, peer, package, report, sha256Hex(package.bytes));
  Handling handled;
  auto once = [&]() -> Status { return applying.run(handled); };
  Status done = store::finishTransaction(**db, once);
  // The same msg_id committed a moment ago by another consumer (the broker redelivered the message to a
  // second gateway while the first still handled it): once more, and it is seen as the duplicate it is.
  if (!done && done.error().kind == ErrorKind::Conflict) done = store::inTransaction(**db, once);
  if (!done) {
    log::warn("inbound package not handled, the transport keeps it",
              {{"participant", peer.org_id}, {"error", done.error().message}});
    return done;
  }
  countInbound(handled.outcome);
  if (handled.registered) countRegistered(*handled.registered);
  if (package.verdict) {
    *package.verdict = {handled.refusal.first == 0, handled.refusal.first, handled.refusal.second,
                        report.header->msg_id};
  }
  return {};
}

namespace {

// A package of a batch, verified and waiting to be applied.
struct Ready {
  std::size_t index;
  std::shared_ptr<const Peer> peer;  // shared by the batch's packages from one transport identity
  crypto::PackageReport report;
  std::string sha;
  Handling handled;
  std::string case_key;  // the case it will lock; empty: none yet (a participant's own appeal)
};

// The case each package concerns, found as its handler will find it: a receipt by the package of ours
// it refers to (one sent to its sender), a notice by the case it names and a reply by the UCC number it
// refers to (a case of its sender's); and each package referred to, as a receipt's handler judges it
// (store::BatchInboundRows). One statement for the batch. A case its sender has nothing to do with is
// no case of the package: the batch never locks another body's case because a package named it.
struct BatchKeys {
  std::vector<std::string> cases;                                       // one a package, in order
  std::map<std::string, store::ReferredPackage, std::less<>> referred;  // by msg_id, in lower case
};

Result<BatchKeys> caseKeys(store::PgConnection& db, const std::vector<Ready>& ready) {
  std::vector<std::string> refs, numbers, noticed, senders;
  for (const auto& r : ready) {
    const sev::Header& h = *r.report.header;
    std::string ref, number, notice_case;
    if (h.acknowledgement) ref = h.acknowledgement->msg_id;
    if (h.expansion && h.expansion->notice) notice_case = h.expansion->notice->case_id;
    if (h.msg_type == 3 && h.document) {
      for (const auto& ad : h.document->addressees) {
        for (const auto& referred : ad.referred) {
          if (const auto* reg = std::get_if<sev::RegNumber>(&referred.number)) number = reg->value;
        }
      }
    }
    refs.push_back(isUuid(ref) ? lowerAscii(ref) : "");
    numbers.push_back(number);
    noticed.push_back(isUuid(notice_case) ? lowerAscii(notice_case) : "");
    senders.push_back(r.peer->org_id);
  }
  auto r = db.exec(
      // OFFSET 0 keeps the package's look-up a probe of its key for each reference, whatever the table's size.
      "SELECT coalesce(CASE WHEN m.direction = 'out' AND m.peer_org_id = k.org THEN m.case_id::text END, "
      "(SELECT c.id::text FROM cases c WHERE c.ucc_number = NULLIF(k.num, '') AND c.participant_org_id = k.org), "
      "(SELECT c.id::text FROM cases c WHERE c.id = NULLIF(k.noticed, '')::uuid AND c.participant_org_id = k.org), "
      "''), m.found, coalesce(m.case_id::text, ''), coalesce(m.msg_type, 0), coalesce(m.direction, ''), "
      "coalesce(m.peer_org_id, '') FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS "
      "k(ref, num, noticed, org, ord) LEFT JOIN LATERAL (SELECT true AS found, o.case_id, o.msg_type, "
      "o.direction::text AS direction, o.peer_org_id::text AS peer_org_id FROM message o WHERE o.msg_id = "
      "NULLIF(k.ref, '')::uuid OFFSET 0) m ON true ORDER BY k.ord",
      {store::textArrayLiteral(refs), store::textArrayLiteral(numbers), store::textArrayLiteral(noticed),
       store::textArrayLiteral(senders)});
  if (!r) return r.error();
  if (static_cast<std::size_t>(r->rows()) != ready.size()) {
    return Error::internal("inbound.case_keys", "inbound: case keys not found");
  }
  BatchKeys keys;
  for (int i = 0; i < r->rows(); ++i) {
    keys.cases.emplace_back(r->get(i, 0));
    if (r->get(i, 1) != "t") continue;  // no such package (or no reference)
    keys.referred.insert_or_assign(refs[static_cast<std::size_t>(i)],
                                   store::ReferredPackage{std::string(r->get(i, 2)), static_cast<int>(r->getInt(i, 3)),
                                                          std::string(r->get(i, 4)), std::string(r->get(i, 5))});
  }
  return keys;
}

}  // namespace

std::vector<Status> InboundHandler::receiveAll(const std::vector<adapters::InboundPackage>& packages) {
  if (packages.size() < 2) {
    std::vector<Status> out;
    for (const auto& p : packages) out.push_back(receive(p));
    return out;
  }
  std::vector<Status> out(packages.size());
  std::vector<std::size_t> alone;  // through receive(), after the batch's connection went back
  std::vector<Ready> ready;
  Status done = [&]() -> Status {
    auto db = context_.pool.acquire();
    if (!db) return db.error();
    const long long trips_before = (**db).roundTrips();
    // The peers read in the transaction that applies the packages, as receive() does; each transport
    // identity once (a batch is mostly one participant's: its queue, its folder).
    if (auto s = (**db).begin(); !s) return s;
    std::map<std::string, std::shared_ptr<const Peer>, std::less<>> peers;  // null: no such participant
    for (std::size_t i = 0; i < packages.size(); ++i) {
      const auto& package = packages[i];
      if (!package.transfer_problem.empty()) {
        alone.push_back(i);
        continue;
      }
      auto known = peers.find(package.peer_identity);
      if (known == peers.end()) {
        auto found = store::findPeer(**db, package.peer_identity);
        if (!found) {
          (void)(**db).rollback();
          return found.error();
        }
        known =
            peers.emplace(package.peer_identity, *found ? std::make_shared<const Peer>(std::move(**found)) : nullptr)
                .first;
      }
      if (!known->second) {
        alone.push_back(i);
        continue;
      }
      auto report = verifyArrival(context_, *known->second, package.bytes);
      if (!report.header) {
        alone.push_back(i);
        continue;
      }
      ready.push_back({i, known->second, std::move(report), sha256Hex(package.bytes), {}, {}});
    }
    // One batch at a time in this process: two would each hold several cases while waiting for the
    // other's (a group of cases answered together locks them all).
    std::lock_guard one_batch(batch_mutex_);
    // Whether each came before, asked of the database for the whole batch at once, with the batch's
    // cases (PgConnection::ask).
    std::vector<std::string> ids;
    for (const auto& r : ready) {
      if (isUuid(r.report.header->msg_id)) ids.push_back(lowerAscii(r.report.header->msg_id));
    }
    store::askEarlierDigests(**db, ids);
    // Applied case by case in the order of the cases' ids (each case's packages in the order they came):
    // batches side by side then lock their cases in one order, and never wait on each other in a cycle.
    auto cases = caseKeys(**db, ready);
    if (!cases) {
      (void)(**db).rollback();
      return cases.error();
    }
    for (std::size_t k = 0; k < ready.size(); ++k) ready[k].case_key = cases->cases[k];
    std::stable_sort(ready.begin(), ready.end(), [](const Ready& a, const Ready& b) {
      return a.case_key.empty() != b.case_key.empty() ? b.case_key.empty() : a.case_key < b.case_key;
    });
    Status applied = store::finishTransaction(**db, [&]() -> Status {
      auto digests = store::earlierDigests(**db, ids);
      if (!digests) return digests.error();
      // The batch's cases locked in one statement, in the order of their ids (as they are applied), and
      // read as its receipts' decisions read them.
      std::vector<std::string> case_ids;
      for (const auto& r : ready) {
        if (isUuid(r.case_key) && (case_ids.empty() || case_ids.back() != r.case_key)) case_ids.push_back(r.case_key);
      }
      auto locked = store::lockCasesForReceipts(**db, case_ids);
      if (!locked) return locked.error();
      store::BatchInboundRows rows(**db, std::move(*digests), std::move(cases->referred), std::move(*locked));
      for (auto& r : ready) {
        Applying applying(context_, **db, rows, *r.peer, packages[r.index], r.report, r.sha);
        if (auto s = applying.run(r.handled); !s) return s;
      }
      return {};
    });
    if (applied) countInboundBatch((**db).roundTrips() - trips_before);
    return applied;
  }();
  if (done) {
    for (auto& r : ready) {
      countInbound(r.handled.outcome);
      if (r.handled.registered) countRegistered(*r.handled.registered);
      if (packages[r.index].verdict) {
        *packages[r.index].verdict = {r.handled.refusal.first == 0, r.handled.refusal.first, r.handled.refusal.second,
                                      r.report.header->msg_id};
      }
    }
  } else {
    // Nothing of the batch was recorded: each goes alone (a duplicate beside its first copy, a deadlock
    // with another gateway's batch). Said, so that an operator sees batches that keep failing.
    log::warn("inbound batch not applied together, each package goes alone",
              {{"packages", static_cast<long long>(packages.size())}, {"error", done.error().message}});
    alone.clear();
    for (std::size_t i = 0; i < packages.size(); ++i) alone.push_back(i);
  }
  for (std::size_t i : alone) out[i] = receive(packages[i]);
  return out;
}

}  // namespace vkhid::flows
