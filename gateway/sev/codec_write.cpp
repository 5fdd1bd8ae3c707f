// Model -> DOM -> bytes, in the element order the schema requires.
#include <libxml/tree.h>

#include "gateway/domain/base64.hpp"
#include "gateway/sev/codec.hpp"

namespace vkhid::sev {
namespace {

class DomWriter {
 public:
  explicit DomWriter(xmlDoc* doc) : doc_(doc) {}

  static void attr(xmlNode* n, const char* name, const std::string& value) {
    xmlNewProp(n, xc(name), xc(value.c_str()));
  }
  static void attr(xmlNode* n, const char* name, const Opt& value) {
    if (value) attr(n, name, *value);
  }
  static void attr(xmlNode* n, const char* name, int value) { attr(n, name, std::to_string(value)); }

  static xmlNode* child(xmlNode* parent, const char* name, const std::string& text = {}) {
    return xmlNewTextChild(parent, nullptr, xc(name), text.empty() ? nullptr : xc(text.c_str()));
  }

  void address(xmlNode* parent, const Address& a) {
    xmlNode* n = child(parent, "Address", a.text);
    attr(n, "street", a.street);
    attr(n, "house", a.house);
    attr(n, "building", a.building);
    attr(n, "flat", a.flat);
    attr(n, "settlement", a.settlement);
    attr(n, "district", a.district);
    attr(n, "region", a.region);
    attr(n, "country", a.country);
    attr(n, "postcode", a.postcode);
    attr(n, "postbox", a.postbox);
    attr(n, "nontypical", a.nontypical);
  }
  void econtacts(xmlNode* parent, const std::vector<Econtact>& list) {
    for (const auto& e : list) attr(child(parent, "Econtact", e.value), "type", e.type);
  }
  void name(xmlNode* parent, const Name& v) {
    xmlNode* n = child(parent, "Name", v.text);
    attr(n, "secname", v.secname);
    attr(n, "firstname", v.firstname);
    attr(n, "fathersname", v.fathersname);
  }
  void ranks(xmlNode* parent, const std::vector<Rank>& list) {
    for (const auto& r : list) {
      xmlNode* n = child(parent, "Rank", r.text);
      attr(n, "privilege", r.privilege);
      attr(n, "socialposition", r.socialposition);
      attr(n, "sex", r.sex);
    }
  }
  void regNumber(xmlNode* parent, const RegNumber& r, const char* element = "RegNumber") {
    xmlNode* n = child(parent, element, r.value);
    attr(n, "regdate", r.regdate);
    attr(n, "regpoint", r.regpoint);
  }
  void taskNumber(xmlNode* parent, const TaskNumber& t) {
    attr(child(parent, "TaskNumber", t.value), "taskDate", t.task_date);
  }
  void confident(xmlNode* parent, const Confident& c) { attr(child(parent, "Confident", c.text), "flag", c.flag); }

  void officialPerson(xmlNode* parent, const OfficialPerson& p) {
    xmlNode* n = child(parent, "OfficialPerson");
    name(n, p.name);
    for (const auto& o : p.officials) {
      xmlNode* e = child(n, "Official", o.text);
      attr(e, "department", o.department);
      attr(e, "post", o.post);
      attr(e, "separator", o.separator);
    }
    ranks(n, p.ranks);
    if (p.address) address(n, *p.address);
    econtacts(n, p.econtacts);
    if (p.sign_date) child(n, "SignDate", *p.sign_date);
  }

  void organization(xmlNode* parent, const Organization& o) {
    xmlNode* n = child(parent, "Organization");
    if (o.address) address(n, *o.address);
    econtacts(n, o.econtacts);
    for (const auto& p : o.official_persons) officialPerson(n, p);
    attr(n, "fullname", o.fullname);
    attr(n, "shortname", o.shortname);
    attr(n, "ownership", o.ownership);
    attr(n, "ogrn", o.ogrn);
    attr(n, "inn", o.inn);
  }

  void privatePerson(xmlNode* parent, const PrivatePerson& p) {
    xmlNode* n = child(parent, "PrivatePerson");
    name(n, p.name);
    ranks(n, p.ranks);
    if (p.address) address(n, *p.address);
    econtacts(n, p.econtacts);
    if (p.sign_date) child(n, "SignDate", *p.sign_date);
    attr(n, "inn", p.inn);
    attr(n, "pas_ser", p.pas_ser);
    attr(n, "pas_num", p.pas_num);
    attr(n, "pas_org", p.pas_org);
    attr(n, "pas_date", p.pas_date);
  }

  void party(xmlNode* parent, const Party& p) {
    if (const auto* o = std::get_if<Organization>(&p)) organization(parent, *o);
    if (const auto* pp = std::get_if<PrivatePerson>(&p)) privatePerson(parent, *pp);
  }

  void docNumber(xmlNode* parent, const DocNumber& d) {
    xmlNode* n = child(parent, "DocNumber");
    if (d.organization) organization(n, *d.organization);
    regNumber(n, d.reg_number);
    attr(n, "kind", d.kind);
  }

  void docTransfer(xmlNode* parent, const DocTransfer& t) {
    xmlNode* n = child(parent, "DocTransfer", base64Encode(t.content));
    attr(n, "os", t.os);
    attr(n, "type", t.type);
    attr(n, "type_ver", t.type_ver);
    attr(n, "char_set", t.char_set);
    attr(n, "description", t.description);
    attr(n, "idnumber", t.idnumber);
  }

  void referred(xmlNode* parent, const Referred& r) {
    xmlNode* n = child(parent, "Referred");
    if (const auto* reg = std::get_if<RegNumber>(&r.number)) regNumber(n, *reg);
    if (const auto* task = std::get_if<TaskNumber>(&r.number)) taskNumber(n, *task);
    attr(n, "idnumber", r.idnumber);
    attr(n, "retype", r.retype);
  }

  void documentAttributes(xmlNode* n, const DocumentAttributes& a) {
    attr(n, "idnumber", a.idnumber);
    attr(n, "type", a.type);
    attr(n, "kind", a.kind);
    attr(n, "idnumber_ext", a.idnumber_ext);
    attr(n, "pages", a.pages);
    attr(n, "title", a.title);
    attr(n, "annotation", a.annotation);
    attr(n, "collection", a.collection);
    attr(n, "purpose_type", a.purpose_type);
    attr(n, "urgent", a.urgent);
  }

  void approval(xmlNode* parent, const Approval& a) {
    xmlNode* n = child(parent, "Approval");
    if (const auto* req = std::get_if<ApprovalRequest>(&a)) {
      xmlNode* r = child(n, "ApprovalRequest");
      if (req->sender) {
        xmlNode* s = child(r, "InitiativeDocumentSender");
        party(s, req->sender->party);
        for (const auto& ref : req->sender->referred) referred(s, ref);
      }
      for (const auto& ap : req->approvers) {
        xmlNode* e = child(r, "Approver");
        party(e, ap.party);
        for (const auto& id : ap.referred_approvers) attr(child(e, "ReferredApprover"), "idnumber", id);
        attr(e, "idnumber", ap.idnumber);
        attr(e, "deadline", ap.deadline);
      }
    }
    if (const auto* resp = std::get_if<ApprovalResponse>(&a)) {
      xmlNode* r = child(n, "ApprovalResponse");
      attr(r, "attestation", resp->attestation);
      attr(r, "comment", resp->comment);
    }
  }

  void document(xmlNode* parent, const Document& d) {
    xmlNode* n = child(parent, "Document");
    documentAttributes(n, d.attrs);
    regNumber(n, d.reg_number);
    confident(n, d.confident);
    if (d.doc_number) docNumber(n, *d.doc_number);
    for (const auto& t : d.transfers) docTransfer(n, t);
    for (const auto& h : d.reghistory) {
      xmlNode* e = child(n, "Reghistory");
      if (h.organization) organization(e, *h.organization);
      regNumber(e, h.reg_number);
      attr(e, "idnumber", h.idnumber);
    }
    for (const auto& a : d.authors) {
      xmlNode* e = child(n, "Author");
      party(e, a.party);
      if (a.out_number) regNumber(child(e, "OutNumber"), *a.out_number);
    }
    for (const auto& v : d.validators) {
      xmlNode* e = child(n, "Validator");
      party(e, v.party);
      if (v.doc_number) docNumber(e, *v.doc_number);
      attr(e, "attestation", v.attestation);
    }
    for (const auto& a : d.addressees) {
      xmlNode* e = child(n, "Addressee");
      party(e, a.party);
      for (const auto& r : a.referred) referred(e, r);
      attr(e, "type", a.type);
    }
    if (d.writer) party(child(n, "Writer"), d.writer->party);
    if (d.approval) approval(n, *d.approval);
  }

  void taskList(xmlNode* parent, const TaskList& list) {
    xmlNode* n = child(parent, "TaskList");
    for (const auto& t : list.tasks) {
      xmlNode* e = child(n, "Task");
      taskNumber(e, t.task_number);
      confident(e, t.confident);
      for (const auto& r : t.referred) referred(e, r);
      for (const auto& a : t.authors) organization(child(e, "Author"), a);
      for (const auto& d : t.transfers) docTransfer(e, d);
      for (const auto& x : t.executors) {
        xmlNode* ex = child(e, "Executor");
        organization(ex, x.organization);
        attr(ex, "responsible", x.responsible);
        attr(ex, "task_specified", x.task_specified);
        attr(ex, "deadline", x.deadline);
      }
      attr(e, "idnumber", t.idnumber);
      attr(e, "task_reg", t.task_reg);
      attr(e, "task_copy", t.task_copy);
      attr(e, "kind", t.kind);
      attr(e, "task_text", t.task_text);
      attr(e, "deadline", t.deadline);
      attr(e, "referred-control", t.referred_control);
    }
  }

  void addDocuments(xmlNode* parent, const AddDocuments& a) {
    xmlNode* n = child(parent, "AddDocuments");
    for (const auto& f : a.folders) {
      xmlNode* e = child(n, "Folder");
      for (const auto& t : f.transfers) docTransfer(e, t);
      for (const auto& note : f.notes) child(e, "Note", note);
      for (const auto& d : f.documents) {
        xmlNode* link = child(e, "Document");
        if (d.reg_number) regNumber(link, *d.reg_number);
        documentAttributes(link, d.attrs);
      }
      attr(e, "add_type", f.add_type);
    }
  }

  xmlNode* appealChild(xmlNode* parent, const char* name) { return xmlNewChild(parent, appeal_ns_, xc(name), nullptr); }

  void appeal(xmlNode* parent, const AppealExpansion& a) {
    xmlNode* n = xmlNewChild(parent, nullptr, xc("Appeal"), nullptr);
    appeal_ns_ = xmlNewNs(n, xc(kAppealNs), xc("va"));
    xmlSetNs(n, appeal_ns_);
    attr(n, "kind", a.kind);
    attr(n, "case_id", a.case_id);
    attr(n, "channel", a.channel);
    attr(n, "received_at", a.received_at);
    attr(n, "restricted", std::string(a.restricted ? "true" : "false"));
    attr(n, "priority", a.priority);
    attr(n, "urgency", a.urgency);
    attr(n, "anonymous", a.anonymous);
    attr(n, "collective", a.collective);
    if (a.classification) {
      xmlNode* c = appealChild(n, "Classification");
      const auto& k = *a.classification;
      attr(c, "form_of_receipt", k.form_of_receipt);
      attr(c, "sign", k.sign);
      attr(c, "type", k.type);
      attr(c, "subject", k.subject);
      attr(c, "applicant_category", k.applicant_category);
      attr(c, "social_status", k.social_status);
      attr(c, "topic", k.topic);
    }
    for (const auto& d : a.deadlines) {
      xmlNode* c = appealChild(n, "Deadline");
      attr(c, "kind", d.kind);
      attr(c, "due", d.due);
      attr(c, "rule", d.rule);
    }
    if (a.consent) {
      xmlNode* c = appealChild(n, "Consent");
      attr(c, "disclose_identity", std::string(a.consent->disclose_identity ? "true" : "false"));
      attr(c, "process_personal_data", std::string(a.consent->process_personal_data ? "true" : "false"));
    }
  }

  void notice(xmlNode* parent, const NoticeExpansion& x) {
    xmlNode* n = xmlNewChild(parent, nullptr, xc("Notice"), nullptr);
    appeal_ns_ = xmlNewNs(n, xc(kAppealNs), xc("va"));
    xmlSetNs(n, appeal_ns_);
    if (x.reason) xmlNewTextChild(n, appeal_ns_, xc("Reason"), xc(x.reason->c_str()));
    attr(n, "kind", x.kind);
    attr(n, "case_id", x.case_id);
    attr(n, "ref_msg_id", x.ref_msg_id);
    attr(n, "new_due", x.new_due);
    attr(n, "competent_org_id", x.competent_org_id);
    attr(n, "article", x.article);
  }

  // Re-parses a kept element and adopts it. The text came from our own serialisation of a
  // validated document, so a failure here is a broken invariant, not bad input.
  void adopt(xmlNode* parent, const std::string& xml) {
    XmlDocPtr frag(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, "UTF-8",
                                 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE));
    if (!frag) return;
    xmlNode* copy = xmlDocCopyNode(xmlDocGetRootElement(frag.get()), doc_, 1);
    xmlAddChild(parent, copy);
  }

  void expansion(xmlNode* parent, const Expansion& e) {
    xmlNode* n = child(parent, "Expansion");
    econtacts(n, e.econtacts);
    xmlNode* st = child(n, "StaticExpansion");
    for (const auto& s : e.sign_infos) {
      xmlNode* si = child(st, "SignInfo");
      if (s.certificate_data) child(si, "CertificateData", base64Encode(*s.certificate_data));
      if (s.signing_time) child(si, "SigningTime", *s.signing_time);
      child(si, "SignData", base64Encode(s.sign_data));
      attr(si, "docTransfer_idnumber", s.doc_transfer_idnumber);
    }
    if (e.appeal) appeal(n, *e.appeal);
    if (e.notice) notice(n, *e.notice);
    for (const auto& x : e.other_xml) adopt(n, x);
    if (e.seal_xml) adopt(n, *e.seal_xml);
    attr(n, "organization", e.organization);
    attr(n, "exp_ver", e.exp_ver);
  }

  void acknowledgement(xmlNode* parent, const Acknowledgement& a) {
    xmlNode* n = child(parent, "Acknowledgement");
    if (a.reg_number) regNumber(n, *a.reg_number);
    for (const auto& r : a.results) {
      xmlNode* e = child(n, "AckResult");
      attr(e, "errorcode", r.errorcode);
      attr(e, "errortext", r.errortext);
    }
    if (a.transfer) docTransfer(n, *a.transfer);
    attr(n, "msg_id", a.msg_id);
    attr(n, "ack_type", a.ack_type);
  }

  void header(const Header& h) {
    xmlNode* n = xmlNewNode(nullptr, xc("Header"));
    xmlDocSetRootElement(doc_, n);
    attr(n, "standart", h.standart);
    attr(n, "version", h.version);
    attr(n, "charset", h.charset);
    attr(n, "time", h.time);
    attr(n, "msg_type", h.msg_type);
    attr(n, "msg_id", h.msg_id);
    if (h.msg_acknow) attr(n, "msg_acknow", *h.msg_acknow);
    attr(n, "from_org_id", h.from_org_id);
    attr(n, "from_organization", h.from_organization);
    attr(n, "from_department", h.from_department);
    attr(n, "from_sys_id", h.from_sys_id);
    attr(n, "from_system", h.from_system);
    attr(n, "from_system_details", h.from_system_details);
    attr(n, "to_org_id", h.to_org_id);
    attr(n, "to_organization", h.to_organization);
    attr(n, "to_department", h.to_department);
    attr(n, "to_sys_id", h.to_sys_id);
    attr(n, "to_system", h.to_system);
    attr(n, "to_system_details", h.to_system_details);
    if (h.document) document(n, *h.document);
    if (h.task_list) taskList(n, *h.task_list);
    if (h.add_documents) addDocuments(n, *h.add_documents);
    if (h.expansion) expansion(n, *h.expansion);
    if (h.acknowledgement) acknowledgement(n, *h.acknowledgement);
  }

 private:
  xmlDoc* doc_;
  xmlNs* appeal_ns_ = nullptr;
};

}  // namespace

XmlDocPtr buildDocument(const Header& header) {
  initXml();
  XmlDocPtr doc(xmlNewDoc(xc("1.0")));
  DomWriter(doc.get()).header(header);
  return doc;
}

std::string writePackage(const Header& header) { return serialize(buildDocument(header).get()); }

}  // namespace vkhid::sev
