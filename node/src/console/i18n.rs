//! The console's words, in English and Chinese, chosen by the browser's language
//! (`Accept-Language`) unless the person picked one (the `lang` cookie).
//!
//! Templates read them as `t.key`; a test checks that both catalogues have the same keys and
//! that every key a template uses exists.

use std::collections::BTreeMap;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The language for a request: the `lang` cookie if set, else the first of the browser's
    /// languages the console speaks, else English.
    pub fn pick(cookie: Option<&str>, accept_language: Option<&str>) -> Self {
        match cookie {
            Some("zh") => return Self::Zh,
            Some("en") => return Self::En,
            _ => {}
        }
        let mut ranked: Vec<(f32, &str)> = accept_language
            .unwrap_or("")
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty()).then_some((q, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in ranked {
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            match primary.as_str() {
                "zh" => return Self::Zh,
                "en" => return Self::En,
                _ => {}
            }
        }
        Self::En
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }

    /// The cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh",
        }
    }

    /// Its words, by key.
    pub fn words(self) -> BTreeMap<&'static str, &'static str> {
        let table = match self {
            Self::En => EN,
            Self::Zh => ZH,
        };
        table.iter().copied().collect()
    }
}

/// English.
pub(crate) const EN: &[(&str, &str)] = &[
    ("app", "Signet console"),
    ("skip", "Skip to content"),
    ("nav_inbox", "Inbox"),
    ("nav_sessions", "Contracts"),
    ("nav_send", "Send a contract"),
    ("nav_seals", "Seals and mandates"),
    ("nav_attestations", "Attestations"),
    ("nav_peers", "Peers"),
    ("nav_evidence", "Evidence"),
    ("nav_verify", "Verify a bundle"),
    ("nav_people", "People"),
    ("sign_out", "Sign out"),
    ("language", "中文"),
    ("signed_in_as", "Signed in as"),
    ("role_reader", "reader"),
    ("role_signer", "signer"),
    ("role_admin", "administrator"),
    ("login_title", "Sign in"),
    (
        "login_intro",
        "Sign in with the passkey you registered for this console.",
    ),
    ("your_name", "Your name"),
    ("sign_in_passkey", "Sign in with passkey"),
    (
        "no_account",
        "No passkey yet? Ask an administrator of this node for an invitation link.",
    ),
    ("register_title", "Create your passkey"),
    (
        "register_intro",
        "You are invited to this party's console. Your passkey stays on your device or security key; the node keeps only its public key.",
    ),
    ("register_as", "You will be registered as"),
    ("passkey_label", "A name for this passkey"),
    (
        "passkey_label_hint",
        "For example: work laptop, phone, security key",
    ),
    ("create_passkey", "Create passkey"),
    (
        "invitation_invalid",
        "This invitation is unknown, already used or expired. Ask for a new one.",
    ),
    ("working", "Working…"),
    ("needs_js", "Passkeys need JavaScript in this browser."),
    ("inbox_title", "Awaiting your party"),
    ("inbox_empty", "Nothing awaits this party."),
    ("sessions_title", "Contracts"),
    ("sessions_empty", "No contracts here."),
    ("filter_all", "All"),
    ("filter_open", "Open"),
    ("filter_completed", "Completed"),
    ("filter_ended", "Declined, cancelled, expired"),
    ("col_title", "Title"),
    ("col_from", "From"),
    ("col_status", "Status"),
    ("col_waiting", "Waiting for"),
    ("col_deadline", "Deadline"),
    ("col_party", "Party"),
    ("col_role", "Role"),
    ("col_order", "Order"),
    ("col_state", "State"),
    ("col_name", "Name"),
    ("col_type", "Type"),
    ("col_size", "Size"),
    ("col_digest", "SHA-256"),
    ("col_time", "Time"),
    ("col_detail", "Detail"),
    ("col_event", "Event"),
    ("col_kind", "Kind"),
    ("col_issuer", "Issuer"),
    ("col_subject", "Subject"),
    ("col_valid", "Valid"),
    ("col_key", "Key"),
    ("col_person", "Person"),
    ("col_passkeys", "Passkeys"),
    ("col_purposes", "Purposes"),
    ("col_actions", "Actions"),
    ("status_open", "open"),
    ("status_completed", "completed"),
    ("status_declined", "declined"),
    ("status_cancelled", "cancelled"),
    ("status_expired", "expired"),
    ("role_signer_p", "signer"),
    ("role_approver_p", "approver"),
    ("role_copy_p", "copy"),
    ("this_party", "this party"),
    ("unverified", "unverified"),
    ("unverified_why", "Identity not established"),
    ("basis_anchor", "trust anchor"),
    ("basis_verified", "verified by an accredited verifier"),
    ("basis_endorsed", "endorsed by counterparties"),
    ("basis_certificate", "CA certificate"),
    ("basis_this-party", "this party"),
    ("registration_no", "Registration no."),
    ("purpose", "Purpose"),
    ("deadline", "Deadline"),
    ("algorithms", "Algorithms"),
    (
        "algorithms_national",
        "national algorithms required (SM2 seals, SM3 digests)",
    ),
    ("col_sm3", "SM3"),
    ("created", "Proposed"),
    ("parties", "Parties"),
    ("documents", "Documents"),
    ("timeline", "Timeline"),
    ("evidence", "Evidence"),
    ("evidence_from", "Evidence held from"),
    ("witnesses", "Witnesses"),
    ("state_signed", "signed"),
    ("state_approved", "approved"),
    ("state_waiting", "waiting"),
    ("state_later", "later in the order"),
    ("state_none", "—"),
    ("event_proposed", "proposed"),
    ("event_signed", "signed"),
    ("event_approved", "approved"),
    ("event_completed", "completed"),
    ("event_declined", "declined"),
    ("event_cancelled", "cancelled"),
    ("event_expired", "expired"),
    ("by_person", "by"),
    ("intent_method", "intent"),
    ("view", "View"),
    ("download", "Download"),
    ("not_fetched", "not received yet"),
    (
        "preview_unavailable",
        "This type cannot be shown here; download it to read it.",
    ),
    (
        "read_confirm",
        "I have read the documents above and agree to sign them.",
    ),
    ("sign_with_passkey", "Sign with my passkey"),
    (
        "sign_explain",
        "Your passkey signs a challenge naming this contract, its documents and this party's seal; the node applies the seal only on that proof.",
    ),
    (
        "signed_ok",
        "Signed. The seal was applied on your passkey's proof.",
    ),
    ("approve", "Approve"),
    ("decline", "Decline"),
    ("reason", "Reason"),
    ("remind", "Remind"),
    ("note", "Note"),
    ("cancel", "Cancel the contract"),
    ("acknowledge", "Acknowledge receipt"),
    ("share_evidence", "Share evidence"),
    ("bundle", "Download the evidence bundle"),
    ("signed_pdf", "Download the signed PDF"),
    ("not_your_turn", "This party is not awaited now."),
    ("no_passkey_role", "Your role does not let you act here."),
    ("done", "Done."),
    ("send_title", "Send a contract"),
    ("title", "Title"),
    ("deadline_days", "Days until the deadline"),
    ("participants", "Participants"),
    (
        "participants_hint",
        "Lower orders act first; equal orders act in parallel.",
    ),
    ("party_id", "Party id"),
    ("known_parties", "Known parties"),
    ("add_participant", "Add a participant"),
    ("files", "Documents"),
    ("witness_ids", "Witness party ids (optional, one per line)"),
    (
        "send_national",
        "Require national algorithms (SM2 seals, SM3 digests)",
    ),
    (
        "send_national_hint",
        "Every participant must seal with an SM2 key; parties without one cannot sign.",
    ),
    (
        "send_national_required",
        "This party's policy requires national algorithms for every contract it sends.",
    ),
    ("send", "Send"),
    ("uploading", "Uploading"),
    ("seals_title", "Seals"),
    ("mandates_title", "Seal mandates"),
    ("give_mandate", "Give a seal mandate"),
    ("mandate_person", "Person and passkey"),
    ("mandate_purposes", "Purposes (one per line)"),
    (
        "mandate_value_cap",
        "Value cap (e.g. CNY:10000000, minor units; empty: none)",
    ),
    (
        "mandate_counterparties",
        "Counterparties (party ids, one per line; empty: any)",
    ),
    ("mandate_days", "Valid for days"),
    ("mandate_seals", "Seals it covers"),
    ("give", "Give mandate"),
    ("revoke", "Revoke"),
    (
        "no_passkeys_people",
        "No person has a passkey yet: invite people first.",
    ),
    ("state_active", "active"),
    ("state_revoked", "revoked"),
    ("state_expired", "expired"),
    ("state_not-yet-valid", "not yet valid"),
    ("seal_valid", "valid"),
    ("seal_retired", "retired"),
    ("attestations_title", "Attestations"),
    ("ca_roots_title", "CA roots (certificate-backed identities)"),
    ("ca_root_name", "CA name"),
    ("crl_until", "CRL current until"),
    (
        "crl_none",
        "no current CRL: identities it certifies are not trusted yet",
    ),
    ("crl_last_error", "last CRL fetch failed"),
    ("intermediate_ca", "intermediate CA"),
    ("ca_root_pem", "Root certificate (PEM)"),
    ("add_ca_root", "Add a CA root"),
    (
        "attest_certificate_title",
        "Attest an identity from its CA certificate",
    ),
    (
        "attest_certificate_help",
        "The party must have proven it holds the certificate's key (signet init --certificate), and its certificate must chain to a CA root above with a current CRL. The legal name and USCC are the certificate's.",
    ),
    ("attest_subject", "Party id"),
    (
        "attest_certificate_pem",
        "Its certificate (PEM, its own first)",
    ),
    ("attest_representative", "Legal representative"),
    ("attest_days", "Valid for (days)"),
    ("attest_submit", "Attest"),
    ("peers_title", "Peers"),
    ("peers_connected", "Connected peers"),
    ("peers_none", "No peer connected."),
    ("add_peer", "Add a peer address"),
    ("add", "Add"),
    ("evidence_title", "Evidence log"),
    ("evidence_size", "Entries in the log"),
    ("checkpoint", "Signed checkpoint"),
    ("verify_title", "Verify a bundle offline"),
    (
        "verify_intro",
        "The bundle is checked here against this node's trust policy and revocation information; nothing is sent anywhere.",
    ),
    ("bundle_file", "Bundle file (.signet)"),
    ("document_files", "Documents to check against it (optional)"),
    ("verify", "Verify"),
    ("report", "Report"),
    ("outcome", "Outcome"),
    ("checks", "Checks"),
    (
        "reliability",
        "Reliability (PRC Electronic Signature Law Art. 13)",
    ),
    ("signed_by", "signed by"),
    ("identity", "identity"),
    ("people_title", "People"),
    ("invite", "Invite a person"),
    (
        "invite_link",
        "Send this link to the person (it works once, for three days):",
    ),
    ("role", "Role"),
    ("set_role", "Change role"),
    ("remove", "Remove"),
    ("error", "Error"),
    ("forbidden", "Your role does not allow this."),
    ("not_found", "Not found."),
    ("back", "Back"),
    (
        "name_on_mandate",
        "The mandate names the person and their passkey.",
    ),
];

/// Simplified Chinese.
pub(crate) const ZH: &[(&str, &str)] = &[
    ("app", "Signet 控制台"),
    ("skip", "跳到正文"),
    ("nav_inbox", "待办"),
    ("nav_sessions", "合同"),
    ("nav_send", "发起合同"),
    ("nav_seals", "印章与授权"),
    ("nav_attestations", "证明"),
    ("nav_peers", "节点"),
    ("nav_evidence", "证据"),
    ("nav_verify", "验证证据包"),
    ("nav_people", "人员"),
    ("sign_out", "退出"),
    ("language", "English"),
    ("signed_in_as", "当前用户"),
    ("role_reader", "查看者"),
    ("role_signer", "签署人"),
    ("role_admin", "管理员"),
    ("login_title", "登录"),
    ("login_intro", "使用您为本控制台注册的通行密钥登录。"),
    ("your_name", "您的姓名"),
    ("sign_in_passkey", "使用通行密钥登录"),
    (
        "no_account",
        "还没有通行密钥？请向本节点的管理员索取邀请链接。",
    ),
    ("register_title", "创建您的通行密钥"),
    (
        "register_intro",
        "您受邀使用本单位的控制台。通行密钥保存在您的设备或安全密钥中，节点只保存其公钥。",
    ),
    ("register_as", "您将注册为"),
    ("passkey_label", "为此通行密钥命名"),
    ("passkey_label_hint", "例如：办公电脑、手机、安全密钥"),
    ("create_passkey", "创建通行密钥"),
    (
        "invitation_invalid",
        "此邀请无效、已使用或已过期，请重新索取。",
    ),
    ("working", "处理中…"),
    ("needs_js", "通行密钥需要浏览器启用 JavaScript。"),
    ("inbox_title", "待本单位处理"),
    ("inbox_empty", "没有待处理的合同。"),
    ("sessions_title", "合同"),
    ("sessions_empty", "这里没有合同。"),
    ("filter_all", "全部"),
    ("filter_open", "进行中"),
    ("filter_completed", "已完成"),
    ("filter_ended", "已拒签、撤销、过期"),
    ("col_title", "标题"),
    ("col_from", "发起方"),
    ("col_status", "状态"),
    ("col_waiting", "等待"),
    ("col_deadline", "截止"),
    ("col_party", "单位"),
    ("col_role", "角色"),
    ("col_order", "顺序"),
    ("col_state", "进度"),
    ("col_name", "名称"),
    ("col_type", "类型"),
    ("col_size", "大小"),
    ("col_digest", "SHA-256"),
    ("col_time", "时间"),
    ("col_detail", "说明"),
    ("col_event", "事件"),
    ("col_kind", "类别"),
    ("col_issuer", "签发方"),
    ("col_subject", "对象"),
    ("col_valid", "有效期"),
    ("col_key", "密钥"),
    ("col_person", "人员"),
    ("col_passkeys", "通行密钥"),
    ("col_purposes", "用途"),
    ("col_actions", "操作"),
    ("status_open", "进行中"),
    ("status_completed", "已完成"),
    ("status_declined", "已拒签"),
    ("status_cancelled", "已撤销"),
    ("status_expired", "已过期"),
    ("role_signer_p", "签署方"),
    ("role_approver_p", "审批方"),
    ("role_copy_p", "抄送方"),
    ("this_party", "本单位"),
    ("unverified", "未核验"),
    ("unverified_why", "身份未确认"),
    ("basis_anchor", "信任锚"),
    ("basis_verified", "经认可的核验机构核验"),
    ("basis_endorsed", "经交易对手背书"),
    ("basis_certificate", "CA 数字证书"),
    ("basis_this-party", "本单位"),
    ("registration_no", "统一社会信用代码"),
    ("purpose", "用途"),
    ("deadline", "截止时间"),
    ("algorithms", "密码算法"),
    (
        "algorithms_national",
        "须使用国密算法（SM2 印章、SM3 摘要）",
    ),
    ("col_sm3", "SM3"),
    ("created", "发起时间"),
    ("parties", "参与方"),
    ("documents", "文件"),
    ("timeline", "过程"),
    ("evidence", "证据"),
    ("evidence_from", "已持有证据的单位"),
    ("witnesses", "见证方"),
    ("state_signed", "已签署"),
    ("state_approved", "已审批"),
    ("state_waiting", "等待中"),
    ("state_later", "尚未轮到"),
    ("state_none", "—"),
    ("event_proposed", "发起"),
    ("event_signed", "签署"),
    ("event_approved", "审批"),
    ("event_completed", "完成"),
    ("event_declined", "拒签"),
    ("event_cancelled", "撤销"),
    ("event_expired", "过期"),
    ("by_person", "签署人"),
    ("intent_method", "意愿认证"),
    ("view", "查看"),
    ("download", "下载"),
    ("not_fetched", "尚未收到"),
    ("preview_unavailable", "此类型无法在此显示，请下载后阅读。"),
    ("read_confirm", "我已阅读以上文件，同意签署。"),
    ("sign_with_passkey", "用我的通行密钥签署"),
    (
        "sign_explain",
        "您的通行密钥对写明本合同、其文件和本单位印章的挑战签名；节点仅凭此证明加盖印章。",
    ),
    ("signed_ok", "已签署。印章依据您的通行密钥证明加盖。"),
    ("approve", "审批通过"),
    ("decline", "拒签"),
    ("reason", "理由"),
    ("remind", "提醒"),
    ("note", "附言"),
    ("cancel", "撤销合同"),
    ("acknowledge", "确认收到"),
    ("share_evidence", "分享证据"),
    ("bundle", "下载证据包"),
    ("signed_pdf", "下载已签章的PDF"),
    ("not_your_turn", "当前不需要本单位操作。"),
    ("no_passkey_role", "您的角色不能在此操作。"),
    ("done", "已完成。"),
    ("send_title", "发起合同"),
    ("title", "标题"),
    ("deadline_days", "截止天数"),
    ("participants", "参与方"),
    ("participants_hint", "顺序小的先处理；顺序相同的并行处理。"),
    ("party_id", "单位标识"),
    ("known_parties", "已知单位"),
    ("add_participant", "添加参与方"),
    ("files", "文件"),
    ("witness_ids", "见证方单位标识（可选，每行一个）"),
    ("send_national", "使用国密算法（SM2 印章、SM3 摘要）"),
    (
        "send_national_hint",
        "每个参与方都须以 SM2 密钥盖章；没有 SM2 密钥的单位无法签署。",
    ),
    (
        "send_national_required",
        "本单位的策略要求所发合同一律使用国密算法。",
    ),
    ("send", "发送"),
    ("uploading", "上传中"),
    ("seals_title", "印章"),
    ("mandates_title", "用印授权"),
    ("give_mandate", "授予用印授权"),
    ("mandate_person", "人员及其通行密钥"),
    ("mandate_purposes", "用途（每行一个）"),
    (
        "mandate_value_cap",
        "金额上限（如 CNY:10000000，以分计；留空为不限）",
    ),
    (
        "mandate_counterparties",
        "交易对手（单位标识，每行一个；留空为不限）",
    ),
    ("mandate_days", "有效天数"),
    ("mandate_seals", "适用印章"),
    ("give", "授予"),
    ("revoke", "撤销"),
    ("no_passkeys_people", "尚无人员注册通行密钥：请先邀请人员。"),
    ("state_active", "有效"),
    ("state_revoked", "已撤销"),
    ("state_expired", "已过期"),
    ("state_not-yet-valid", "尚未生效"),
    ("seal_valid", "有效"),
    ("seal_retired", "已停用"),
    ("attestations_title", "证明"),
    ("ca_roots_title", "CA 根证书（基于数字证书的身份）"),
    ("ca_root_name", "CA 名称"),
    ("crl_until", "证书吊销列表有效至"),
    ("crl_none", "无有效的证书吊销列表：其签发的身份暂不受信任"),
    ("crl_last_error", "上次获取证书吊销列表失败"),
    ("intermediate_ca", "中级 CA"),
    ("ca_root_pem", "根证书（PEM）"),
    ("add_ca_root", "添加 CA 根证书"),
    ("attest_certificate_title", "依据 CA 数字证书证明身份"),
    (
        "attest_certificate_help",
        "该方须已证明持有证书私钥（signet init --certificate），且其证书须链接到上方的 CA 根证书并有有效的证书吊销列表。名称与统一社会信用代码取自证书。",
    ),
    ("attest_subject", "参与方 ID"),
    ("attest_certificate_pem", "其证书（PEM，本方证书在前）"),
    ("attest_representative", "法定代表人"),
    ("attest_days", "有效期（天）"),
    ("attest_submit", "出具证明"),
    ("peers_title", "节点"),
    ("peers_connected", "已连接的节点"),
    ("peers_none", "没有已连接的节点。"),
    ("add_peer", "添加节点地址"),
    ("add", "添加"),
    ("evidence_title", "证据日志"),
    ("evidence_size", "日志条目数"),
    ("checkpoint", "签名检查点"),
    ("verify_title", "离线验证证据包"),
    (
        "verify_intro",
        "证据包在此按本节点的信任策略和撤销信息验证，不会发送到任何地方。",
    ),
    ("bundle_file", "证据包文件（.signet）"),
    ("document_files", "需核对的文件（可选）"),
    ("verify", "验证"),
    ("report", "报告"),
    ("outcome", "结论"),
    ("checks", "检查项"),
    ("reliability", "可靠性（《电子签名法》第十三条）"),
    ("signed_by", "签署人"),
    ("identity", "身份"),
    ("people_title", "人员"),
    ("invite", "邀请人员"),
    (
        "invite_link",
        "将此链接发给该人员（仅可使用一次，三天内有效）：",
    ),
    ("role", "角色"),
    ("set_role", "修改角色"),
    ("remove", "移除"),
    ("error", "错误"),
    ("forbidden", "您的角色无权执行此操作。"),
    ("not_found", "未找到。"),
    ("back", "返回"),
    ("name_on_mandate", "授权书载明该人员及其通行密钥。"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_words() {
        let en: Vec<_> = EN.iter().map(|(k, _)| *k).collect();
        let zh: Vec<_> = ZH.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            en, zh,
            "the catalogues list the same keys in the same order"
        );
        let unique: std::collections::BTreeSet<_> = en.iter().collect();
        assert_eq!(unique.len(), en.len(), "no key twice");
    }

    #[test]
    fn the_browser_language_is_followed() {
        assert_eq!(Lang::pick(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::pick(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::pick(None, Some("fr-FR, en;q=0.5, zh;q=0.7")),
            Lang::Zh
        );
        assert_eq!(Lang::pick(None, Some("de")), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::En);
        assert_eq!(Lang::pick(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::pick(Some("zh"), Some("en")), Lang::Zh);
    }
}
