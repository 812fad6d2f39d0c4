//! Who may do what, for hotspotctl and the dashboard alike. These checks tell an operator what their role allows and put every
//! attempt in the audit log; they are not a security boundary: anyone holding AWS credentials
//! with table access can bypass the CLI, so hard limits belong in IAM (see `docs/operator.md`).

use std::fmt;

use crate::store::{OperatorRole, ScopedRole};
use hotspot_core::RouterId;

/// Every command, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    RouterAdd,
    RouterList,
    RouterShow,
    RouterDisable,
    RouterEnable,
    RouterRotate,
    RouterWallets,
    PackageAdd,
    PackageEdit,
    PackageRetire,
    PackageList,
    PackageSync,
    VoucherGenerate,
    VoucherList,
    VoucherExport,
    AccountAdd,
    AccountList,
    AccountConfig,
    AccountCredit,
    PaybillRegister,
    SessionList,
    SessionDisconnect,
    SessionExtend,
    GrantResend,
    ReportRevenue,
    ReportLedger,
    LedgerCredit,
    Audit,
    OperatorInit,
    OperatorWhoami,
    OperatorAdd,
    OperatorRole,
    OperatorList,
    OperatorRemove,
    Reindex,
}

/// Who may run an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any caller, operator or not (the store decides, e.g. `operator init`).
    Anyone,
    Admin,
    AdminOrManager,
    /// Admins and managers anywhere; staff at their own router.
    StaffAtOwnRouter,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::RouterAdd => "router add",
            Action::RouterList => "router list",
            Action::RouterShow => "router show",
            Action::RouterDisable => "router disable",
            Action::RouterEnable => "router enable",
            Action::RouterRotate => "router rotate",
            Action::RouterWallets => "router wallets",
            Action::PackageAdd => "package add",
            Action::PackageEdit => "package edit",
            Action::PackageRetire => "package retire",
            Action::PackageList => "package list",
            Action::PackageSync => "package sync",
            Action::VoucherGenerate => "voucher generate",
            Action::VoucherList => "voucher list",
            Action::VoucherExport => "voucher export",
            Action::AccountAdd => "account add",
            Action::AccountList => "account list",
            Action::AccountConfig => "account config",
            Action::AccountCredit => "account credit",
            Action::PaybillRegister => "account paybill-urls",
            Action::SessionList => "session list",
            Action::SessionDisconnect => "session disconnect",
            Action::SessionExtend => "session extend",
            Action::GrantResend => "grant resend",
            Action::ReportRevenue => "report revenue",
            Action::ReportLedger => "report ledger",
            Action::LedgerCredit => "report ledger --credit",
            Action::Audit => "audit",
            Action::OperatorInit => "operator init",
            Action::OperatorWhoami => "operator whoami",
            Action::OperatorAdd => "operator add",
            Action::OperatorRole => "operator role",
            Action::OperatorList => "operator list",
            Action::OperatorRemove => "operator remove",
            Action::Reindex => "reindex",
        }
    }

    pub fn rule(self) -> Rule {
        use Action::*;
        match self {
            OperatorInit | OperatorWhoami => Rule::Anyone,
            RouterAdd | RouterDisable | RouterEnable | RouterRotate | RouterWallets | PackageAdd | PackageEdit
            | PackageRetire | PackageSync | Audit | OperatorAdd | OperatorRole | OperatorList | OperatorRemove
            | Reindex | PaybillRegister => Rule::Admin,
            RouterList | ReportRevenue | ReportLedger | LedgerCredit | AccountCredit => Rule::AdminOrManager,
            RouterShow | PackageList | VoucherGenerate | VoucherList | VoucherExport | AccountAdd | AccountList
            | AccountConfig | SessionList | SessionDisconnect | SessionExtend | GrantResend => Rule::StaffAtOwnRouter,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which routers an allowed action may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every router (or the one named).
    Any,
    /// Only this one: a staff member's router.
    Only(RouterId),
}

impl Scope {
    /// The router a command works on: the one named, or, for staff, theirs.
    pub fn router(&self, named: Option<&RouterId>) -> Option<RouterId> {
        match (named, self) {
            (Some(r), _) => Some(r.clone()),
            (None, Scope::Only(r)) => Some(r.clone()),
            (None, Scope::Any) => None,
        }
    }
}

/// A refused action, worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused: {action}{target} needs role {needs} ({you})")]
pub struct Refusal {
    pub action: Action,
    target: String,
    needs: String,
    you: String,
}

fn needs(rule: Rule, staff_router: Option<&RouterId>) -> String {
    match (rule, staff_router) {
        (Rule::Anyone, _) => "none".into(),
        (Rule::Admin, _) => "admin".into(),
        (Rule::AdminOrManager, _) => "manager or admin".into(),
        (Rule::StaffAtOwnRouter, Some(r)) => format!("manager or admin, or staff for {r}"),
        (Rule::StaffAtOwnRouter, None) => "staff, manager or admin".into(),
    }
}

/// Decides whether `who` (None: not an operator) may run `action` on `router` (None: not
/// about one router, or all of them).
pub fn authorize(
    action: Action,
    who: Option<&ScopedRole>,
    router: Option<&RouterId>,
    arn: &str,
    any_operators: bool,
) -> Result<Scope, Refusal> {
    let rule = action.rule();
    let refuse = |you: String| Refusal {
        action,
        target: router.map(|r| format!(" for router {r}")).unwrap_or_default(),
        needs: needs(rule, router),
        you,
    };
    if rule == Rule::Anyone {
        return Ok(Scope::Any);
    }
    let Some(grant) = who else {
        let hint = match any_operators {
            true => "an admin can add you with `hotspotctl operator add`",
            false => "no operators exist yet: run `hotspotctl operator init` to become the first admin",
        };
        return Err(refuse(format!("you, {arn}, are not an operator; {hint}")));
    };
    let you = format!("you are {grant}");
    match (rule, grant) {
        (_, ScopedRole::Admin) => Ok(Scope::Any),
        (Rule::AdminOrManager | Rule::StaffAtOwnRouter, ScopedRole::Manager) => Ok(Scope::Any),
        (Rule::StaffAtOwnRouter, ScopedRole::Staff(own)) => match router {
            None => Ok(Scope::Only(own.clone())),
            Some(r) if r == own => Ok(Scope::Only(own.clone())),
            Some(_) => Err(refuse(you)),
        },
        _ => Err(refuse(you)),
    }
}

/// The role string the audit log records.
pub fn role_label(who: Option<&ScopedRole>) -> String {
    who.map(ToString::to_string).unwrap_or_else(|| "none".into())
}

/// Parses `--role` and `--router` into a grant: staff need a router, others must not have one.
pub fn scoped_role_of(role: OperatorRole, router: Option<RouterId>) -> Result<ScopedRole, String> {
    match (role, router) {
        (OperatorRole::Staff, Some(r)) => Ok(ScopedRole::Staff(r)),
        (OperatorRole::Staff, None) => Err("staff work at one router: give --router".into()),
        (_, Some(_)) => Err(format!("--router is only for staff ({role} works at every router)")),
        (OperatorRole::Admin, None) => Ok(ScopedRole::Admin),
        (OperatorRole::Manager, None) => Ok(ScopedRole::Manager),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> RouterId {
        s.parse().unwrap()
    }

    #[test]
    fn staff_only_at_their_router() {
        let staff = ScopedRole::Staff(r("cafe-a"));
        let ok = authorize(Action::VoucherGenerate, Some(&staff), Some(&r("cafe-a")), "arn:x", true);
        assert_eq!(ok, Ok(Scope::Only(r("cafe-a"))));
        let e = authorize(Action::VoucherGenerate, Some(&staff), Some(&r("cafe-b")), "arn:x", true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused: voucher generate for router cafe-b needs role manager or admin, or staff for cafe-b \
             (you are staff for cafe-a)"
        );
        // With no router named, staff are scoped to theirs.
        let scope = authorize(Action::SessionList, Some(&staff), None, "arn:x", true).unwrap();
        assert_eq!(scope.router(None), Some(r("cafe-a")));
        let e = authorize(Action::ReportRevenue, Some(&staff), None, "arn:x", true).unwrap_err();
        assert_eq!(e.to_string(), "refused: report revenue needs role manager or admin (you are staff for cafe-a)");
    }

    #[test]
    fn managers_and_admins() {
        let m = ScopedRole::Manager;
        assert_eq!(authorize(Action::ReportRevenue, Some(&m), None, "a", true), Ok(Scope::Any));
        assert_eq!(authorize(Action::SessionExtend, Some(&m), Some(&r("cafe-b")), "a", true), Ok(Scope::Any));
        let e = authorize(Action::PackageAdd, Some(&m), Some(&r("cafe-b")), "a", true).unwrap_err();
        assert_eq!(e.to_string(), "refused: package add for router cafe-b needs role admin (you are manager)");
        for a in [Action::RouterAdd, Action::Audit, Action::OperatorAdd, Action::PackageRetire] {
            assert_eq!(authorize(a, Some(&ScopedRole::Admin), None, "a", true), Ok(Scope::Any));
        }
    }

    #[test]
    fn strangers() {
        let e = authorize(Action::SessionList, None, None, "arn:aws:iam::1:user/eve", true).unwrap_err();
        assert!(e.to_string().contains("you, arn:aws:iam::1:user/eve, are not an operator"), "{e}");
        let e = authorize(Action::SessionList, None, None, "arn:aws:iam::1:user/eve", false).unwrap_err();
        assert!(e.to_string().contains("operator init"), "{e}");
        assert_eq!(authorize(Action::OperatorInit, None, None, "a", false), Ok(Scope::Any));
    }

    #[test]
    fn grants() {
        assert_eq!(scoped_role_of(OperatorRole::Staff, Some(r("cafe-a"))), Ok(ScopedRole::Staff(r("cafe-a"))));
        assert!(scoped_role_of(OperatorRole::Staff, None).is_err());
        assert!(scoped_role_of(OperatorRole::Manager, Some(r("cafe-a"))).is_err());
        assert_eq!(scoped_role_of(OperatorRole::Admin, None), Ok(ScopedRole::Admin));
    }
}
