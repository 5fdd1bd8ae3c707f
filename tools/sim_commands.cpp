// `vkhid sim participant` and the `sim` command that holds the other simulators.
#include "tools/sim_participant.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {

void addSimCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<sim::SimOptions>();
  auto* sim = app.add_subcommand("sim", "Simulators of outside parties (a participant's EDMS)");
  sim->require_subcommand(1);
  addSimTsaCommand(*sim, exit_code);
  addSimSmsCommand(*sim, exit_code);
  addSimHubCommand(*sim, exit_code);
  addSimOidcCommand(*sim, exit_code);
  auto* p = sim->add_subcommand("participant", "A reference EDMS of a participant");
  p->add_option("--via", o->via, "transport: amqp, http, folder or sev-hub")->default_val("amqp");
  p->add_option("--hub-url", o->hub_url, "--via sev-hub: the hub's IntegrationService URL");
  p->add_option("--hub-system-id", o->hub_system_id, "--via sev-hub: our account's SystemId");
  p->add_option("--hub-password", o->hub_password, "--via sev-hub: its password")->envname("VKHID_SIM_HUB_PASSWORD");
  p->add_option("--hub-ca", o->hub_ca, "--via sev-hub: CA of the hub's HTTPS certificate");
  p->add_option("--inbox", o->inbox_dir, "folder: where the gateway puts packages for it");
  p->add_option("--outbox", o->outbox_dir, "folder: where it puts packages for the gateway");
  p->add_option("--listen", o->listen, "http: its own HTTPS endpoint, host:port")->default_val("127.0.0.1:9443");
  p->add_option("--tls-cert", o->tls_cert, "http: its TLS certificate (server and client), PEM");
  p->add_option("--tls-key", o->tls_key, "http: its TLS key, PEM");
  p->add_option("--gateway-url", o->gateway_url, "http: the gateway's https://…/edms/v1/messages");
  p->add_option("--fail-first", o->fail_first, "http: answer 503 to the first N packages delivered")->default_val(0);
  p->add_option("--respond-after-ms", o->respond_after_ms, "http: answer each package delivered only after this long")
      ->default_val(0);
  p->add_option("--org", o->org, "the participant's EDRPOU code")->required();
  p->add_option("--name", o->name, "its name");
  p->add_option("--key", o->key, "its seal key (PEM)")->required();
  p->add_option("--cert", o->cert, "its seal certificate (PEM)")->required();
  p->add_option("--trust", o->trust, "CA certificate(s) it trusts for the UCC's seal (PEM)")->required();
  p->add_option("--broker-url", o->broker_url, "amqp: amqp://user:password@host:port/vhost (its own broker user)");
  p->add_option("--queue-type", o->queue_type, "amqp: classic, or quorum on a cluster (as the gateway's)")
      ->check(CLI::IsMember({"classic", "quorum"}));
  p->add_option("--stats", o->stats_file, "write counts (received, distinct, registered, …) to this JSON file");
  p->add_option("--answer-after-ms", o->answer_after_ms, "send the reply this long after registering")->default_val(0);
  p->add_flag("--no-answer", o->no_answer, "register but never answer");
  p->add_flag("--no-register", o->no_register, "acknowledge delivery (receipts 1 and 2), never register nor answer");
  p->add_option("--reject", o->reject_code, "reject every appeal with this error code (receipt 4)")->default_val(0);
  p->add_option("--reject-first", o->reject_first, "with --reject: only the first N appeals, then as usual")
      ->default_val(0);
  p->add_option("--drop", o->drop, "lose the first N appeals")->default_val(0);
  p->add_option("--forward", o->forward_to,
                "reject every appeal as not in competence (code 132), naming this org_id as the competent body");
  p->add_option("--return-article", o->return_article,
                "register every appeal, then return it to the applicant under this article (a return notice)");
  p->add_flag("--no-further-study", o->no_further_study,
              "after registering, notify that the appeal needs no further study (its term becomes 15 days)");
  p->add_option("--send-appeals", o->send_appeals, "at start, send N appeals of its own contact centre to the UCC")
      ->default_val(0);
  p->add_option("--extend-days", o->extend_days,
                "after registering, send an extension notice moving the answer deadline to now + N days")
      ->default_val(0);
  p->add_option("--ucc-org", o->ucc_org, "the UCC's org_id (to_org_id of what it sends on its own)")
      ->default_val("99999901");
  p->add_flag("--duplicate", o->duplicate, "send everything twice");
  p->add_flag("--reorder", o->reorder, "send the registration receipt before the delivery receipt");
  p->add_flag("--bad-seal", o->bad_seal, "break the seal of everything sent");
  p->add_flag("--malformed", o->malformed, "answer with malformed XML");
  p->add_option("--dstu-key", o->dstu_key, "sign attachments with this DSTU 4145 key (vkhid crypto test-pki)");
  p->add_option("--dstu-cert", o->dstu_cert, "the DSTU key's certificate (DER)");
  p->add_flag("--no-seal", o->no_seal, "send packages without an XML-DSig seal (as real SEV OVV 1.5 systems)");
  p->add_flag("--bad-signature", o->bad_signature, "change each answer's file after signing it");
  p->add_flag("--accept-tampered", o->accept_tampered,
              "misbehave: register packages whose seal or signatures do not verify");
  p->add_flag("--register-duplicates", o->register_duplicates,
              "misbehave: register a repeated package (same msg_id) again, under a new number");
  p->callback([o, &exit_code] { exit_code = sim::runSimParticipant(*o); });
}

}  // namespace vkhid::tools
