//! Runs one command: who is calling, may they, do it, and put it in the audit log.

use hotspot_cloud::store::AuditResult;
use hotspot_core::RouterId;

use crate::access::{Action, Scope};
use crate::cli::{
    AccountCmd, Cli, Command, ModeArg, OperatorCmd, PackageCmd, RadiusCmd, ReportCmd, RouterCmd, SessionCmd, VoucherCmd,
};
use crate::context::Ctx;
use crate::{Error, accounts, audit_log, ledger, operators, packages, revenue, rotate, router, sessions, vouchers};

/// The action a command is and the router it names, if any; `None` for a command that only
/// writes local files (it reaches no stack, so there is nothing to authorize or audit).
pub fn target(c: &Command) -> Option<(Action, Option<RouterId>)> {
    let r = |id: &RouterId| Some(id.clone());
    Some(match c {
        Command::Radius(_) => return None,
        Command::Router(RouterCmd::Add(a)) => (Action::RouterAdd, r(&a.id)),
        Command::Router(RouterCmd::List) => (Action::RouterList, None),
        Command::Router(RouterCmd::Show { id }) => (Action::RouterShow, r(id)),
        Command::Router(RouterCmd::Disable { id, .. }) => (Action::RouterDisable, r(id)),
        Command::Router(RouterCmd::Enable { id }) => (Action::RouterEnable, r(id)),
        Command::Router(RouterCmd::Rotate(a)) => (Action::RouterRotate, r(&a.id)),
        Command::Router(RouterCmd::Wallets { id, .. }) => (Action::RouterWallets, r(id)),
        Command::Package(PackageCmd::Add(a)) => (Action::PackageAdd, r(&a.router)),
        Command::Package(PackageCmd::Edit(a)) => (Action::PackageEdit, r(&a.router)),
        Command::Package(PackageCmd::Retire { router, .. }) => (Action::PackageRetire, r(router)),
        Command::Package(PackageCmd::List { router }) => (Action::PackageList, r(router)),
        Command::Package(PackageCmd::Sync { router }) => (Action::PackageSync, r(router)),
        Command::Voucher(VoucherCmd::Generate { router, .. }) => (Action::VoucherGenerate, r(router)),
        Command::Voucher(VoucherCmd::List { router }) => (Action::VoucherList, r(router)),
        Command::Voucher(VoucherCmd::Export { router, .. }) => (Action::VoucherExport, r(router)),
        Command::Account(AccountCmd::Add { router, .. }) => (Action::AccountAdd, r(router)),
        Command::Account(AccountCmd::List { router }) => (Action::AccountList, r(router)),
        Command::Account(AccountCmd::Config { router, .. }) => (Action::AccountConfig, r(router)),
        Command::Account(AccountCmd::Credit { router, .. }) => (Action::AccountCredit, r(router)),
        Command::Account(AccountCmd::PaybillUrls { .. }) => (Action::PaybillRegister, None),
        Command::Session(SessionCmd::List { router }) => (Action::SessionList, router.clone()),
        Command::Session(SessionCmd::Disconnect { router, .. }) => (Action::SessionDisconnect, r(router)),
        Command::Session(SessionCmd::Extend { router, .. }) => (Action::SessionExtend, r(router)),
        Command::Report(ReportCmd::Revenue(_)) => (Action::ReportRevenue, None),
        Command::Report(ReportCmd::Ledger(a)) if a.credit.is_some() => (Action::LedgerCredit, a.router.clone()),
        Command::Report(ReportCmd::Ledger(_)) => (Action::ReportLedger, None),
        Command::Audit(_) => (Action::Audit, None),
        Command::Operator(OperatorCmd::Init) => (Action::OperatorInit, None),
        Command::Operator(OperatorCmd::Whoami) => (Action::OperatorWhoami, None),
        Command::Operator(OperatorCmd::Add { .. }) => (Action::OperatorAdd, None),
        Command::Operator(OperatorCmd::Role { .. }) => (Action::OperatorRole, None),
        Command::Operator(OperatorCmd::List) => (Action::OperatorList, None),
        Command::Operator(OperatorCmd::Remove { .. }) => (Action::OperatorRemove, None),
        Command::Reindex => (Action::Reindex, None),
    })
}

/// Connects, checks the caller's role, runs the command and audits the outcome.
pub async fn run(cli: &Cli, argv: Vec<String>) -> Result<(), Error> {
    let Some((action, router)) = target(&cli.command) else {
        return match &cli.command {
            Command::Radius(RadiusCmd::Ca { out, server_name }) => crate::radius_cmd::ca(out, server_name),
            _ => Err(Error::Usage("this command needs the stack".into())),
        };
    };
    let ctx = Ctx::connect(&cli.aws, cli.utc_offset, argv).await?;
    let scope = ctx.authorize(action, router.as_ref()).await?;
    let res = dispatch(&ctx, &scope, cli).await;
    // `whoami` is not an action worth a log line.
    if action == Action::OperatorWhoami {
        return res.map(|_| ());
    }
    match res {
        Ok(detail) => ctx.audit(action, router.as_ref(), AuditResult::Ok, &detail).await.inspect_err(|_| {
            eprintln!("hotspotctl: {action} succeeded, but its audit entry could not be written");
        }),
        Err(e) => {
            if let Err(a) = ctx.audit(action, router.as_ref(), AuditResult::Error, &e.to_string()).await {
                eprintln!("hotspotctl: {a}");
            }
            Err(e)
        }
    }
}

async fn dispatch(ctx: &Ctx, scope: &Scope, cli: &Cli) -> Result<String, Error> {
    match &cli.command {
        Command::Router(RouterCmd::Add(a)) => match a.mode {
            ModeArg::Radius => crate::radius_cmd::add(ctx, a).await,
            ModeArg::Agent => router::add(ctx, a).await,
        }
        .map(|()| format!("provisioned {}", a.id)),
        Command::Router(RouterCmd::List) => router::list(ctx).await.map(|()| String::new()),
        Command::Router(RouterCmd::Show { id }) => router::show(ctx, id).await.map(|()| String::new()),
        Command::Router(RouterCmd::Disable { id, reason }) => router::set_disabled(ctx, id, Some(reason)).await,
        Command::Router(RouterCmd::Enable { id }) => router::set_disabled(ctx, id, None).await,
        Command::Router(RouterCmd::Wallets { id, wallets, country }) => {
            router::set_wallets(ctx, id, wallets, *country).await
        }
        Command::Router(RouterCmd::Rotate(a)) => {
            let args = rotate::RotateArgs {
                id: &a.id,
                routeros_version: a.routeros_version,
                api_user: &a.api_user,
                out: a.out.as_ref(),
                again: a.again,
            };
            rotate::rotate(ctx, &args).await
        }
        Command::Package(PackageCmd::Add(a)) => packages::add(ctx, a).await,
        Command::Package(PackageCmd::Edit(a)) => packages::edit(ctx, a).await,
        Command::Package(PackageCmd::Retire { router, id }) => packages::retire(ctx, router, id).await,
        Command::Package(PackageCmd::List { router }) => packages::list(ctx, router).await,
        Command::Package(PackageCmd::Sync { router }) => packages::resync(ctx, router).await,
        Command::Voucher(VoucherCmd::Generate { router, package, count, length }) => {
            vouchers::generate(ctx, &vouchers::GenerateArgs { router, package, count: *count, length: *length }).await
        }
        Command::Voucher(VoucherCmd::List { router }) => vouchers::list(ctx, router).await,
        Command::Voucher(VoucherCmd::Export { router, batch, format, pdf, out, portal_url }) => {
            let a = vouchers::ExportArgs {
                router,
                batch: batch.as_deref(),
                format: if *pdf { crate::cli::ExportFormat::Pdf } else { *format },
                out,
                portal_url: portal_url.as_deref(),
            };
            vouchers::export(ctx, &a).await
        }
        Command::Account(AccountCmd::Add {
            router,
            package,
            service,
            odd_amounts,
            until,
            unpaid,
            phone,
            name,
            endpoint,
        }) => {
            let a = accounts::AddArgs {
                router,
                package,
                service,
                odd_amounts: odd_amounts.map(Into::into),
                until: *until,
                unpaid: *unpaid,
                phone: phone.as_deref(),
                name: name.as_deref(),
                endpoint: endpoint.as_deref(),
            };
            accounts::add(ctx, &a).await
        }
        Command::Account(AccountCmd::List { router }) => accounts::list(ctx, router).await,
        Command::Account(AccountCmd::Credit { router, receipt, number }) => {
            accounts::credit(ctx, router, receipt, number).await
        }
        Command::Account(AccountCmd::PaybillUrls { api_url, when_unreachable }) => {
            accounts::paybill_urls(api_url, *when_unreachable).await
        }
        Command::Account(AccountCmd::Config { router, number, endpoint, dns, out, qr }) => {
            let a = accounts::ConfigArgs {
                router,
                number,
                endpoint: endpoint.as_deref(),
                dns: *dns,
                out,
                qr: qr.as_deref(),
            };
            accounts::config(ctx, &a).await
        }
        Command::Session(SessionCmd::List { router }) => sessions::list(ctx, scope, router.as_ref()).await,
        Command::Session(SessionCmd::Disconnect { router, id }) => sessions::disconnect(ctx, router, id).await,
        Command::Session(SessionCmd::Extend { router, id, by }) => sessions::extend(ctx, router, id, *by).await,
        Command::Report(ReportCmd::Revenue(a)) => revenue::report(ctx, a).await,
        Command::Report(ReportCmd::Ledger(a)) => ledger::run(ctx, a).await,
        Command::Audit(a) => audit_log::show(ctx, a).await,
        Command::Operator(OperatorCmd::Init) => operators::init(ctx).await,
        Command::Operator(OperatorCmd::Whoami) => operators::whoami(ctx).await,
        Command::Operator(OperatorCmd::Add { arn, role, router, invite, dashboard_url }) => {
            let invite = match (invite, dashboard_url) {
                (Some(login), Some(url)) => Some(operators::Invite::parse(login, url)?),
                _ => None,
            };
            operators::add(ctx, arn.as_deref(), *role, router.clone(), invite).await
        }
        Command::Operator(OperatorCmd::Role { arn, role, router }) => {
            operators::set_role(ctx, arn, *role, router.clone()).await
        }
        Command::Operator(OperatorCmd::List) => operators::list(ctx).await,
        Command::Radius(_) => Err(Error::Usage("hotspotctl radius needs no stack: nothing was changed".into())),
        Command::Reindex => {
            let n = ctx.store.reindex().await?;
            println!(
                "indexed {} operator(s), {} purchase(s), {} receipt(s) written before their indexes",
                n.operators, n.purchases, n.receipts
            );
            Ok(format!("{} operators, {} purchases, {} receipts indexed", n.operators, n.purchases, n.receipts))
        }
        Command::Operator(OperatorCmd::Remove { arn }) => operators::remove(ctx, arn).await,
    }
}
