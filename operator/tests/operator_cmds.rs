//! `hotspotctl operator | package | voucher | session | audit` against moto (DynamoDB, SQS, IAM,
//! STS), running the binary as different AWS identities.

mod support;

use std::collections::HashSet;

use hotspot_cloud::store::{AuditResult, NewPurchase, Paid};
use hotspot_core::phone::Country;
use hotspot_core::wallet::Wallet;
use hotspot_core::wire::Payload;
use hotspot_core::{MacAddr, Package, PurchaseId, VoucherCode};
use support::{Env, packages_synced, text, types};

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

fn refused(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "should fail; stdout: {}", text(&out.stdout));
    text(&out.stderr)
}

const ADD_1H: &[&str] = &[
    "package",
    "add",
    "--router",
    "cafe-a",
    "--id",
    "1h",
    "--name",
    "1 hour",
    "--price",
    "10",
    "--validity",
    "1h",
    "--rate-limit",
    "2M/5M",
];

#[tokio::test]
async fn roles_refusals_and_the_audit_log() {
    let env = Env::start().await;
    let a = env.router("cafe-a").await;
    let b = env.router("cafe-b").await;
    ok(&env.run(&env.admin, ADD_1H).await);
    let mut add_b = ADD_1H.to_vec();
    add_b[3] = "cafe-b";
    ok(&env.run(&env.admin, &add_b).await);
    env.jobs(&a).await;
    env.jobs(&b).await;

    // A second init is refused: operators exist.
    let again = refused(&env.run(&env.admin, &["operator", "init"]).await);
    assert!(again.contains("already set up"), "{again}");

    // Strangers are refused with what they need.
    let staff = env.identity("wanjiru").await;
    let manager = env.identity("otieno").await;
    let e = refused(&env.run(&staff, &["session", "list"]).await);
    assert!(e.contains(&format!("you, {}, are not an operator", staff.arn)), "{e}");

    // Bad input to operator add changes nothing.
    let e = refused(&env.run(&env.admin, &["operator", "add", "--arn", &staff.arn, "--role", "staff"]).await);
    assert!(e.contains("give --router"), "{e}");
    let e = refused(&env.run(&env.admin, &["operator", "add", "--arn", "bob", "--role", "manager"]).await);
    assert!(e.contains("--arn must be"), "{e}");
    let e = refused(
        &env.run(&env.admin, &["operator", "add", "--arn", &staff.arn, "--role", "staff", "--router", "cafe-zz"]).await,
    );
    assert!(e.contains("router cafe-zz not found"), "{e}");
    assert_eq!(env.store().list_operators().await.expect("list").len(), 1);

    ok(&env.run(&env.admin, &["operator", "add", "--arn", &staff.arn, "--role", "staff", "--router", "cafe-a"]).await);
    ok(&env.run(&env.admin, &["operator", "add", "--arn", &manager.arn, "--role", "manager"]).await);
    let list = ok(&env.run(&env.admin, &["operator", "list"]).await);
    assert!(list.contains("staff for cafe-a") && list.contains("3 operator(s)"), "{list}");

    // Staff are refused another router's vouchers, and nothing changes.
    let e = refused(
        &env.run(&staff, &["voucher", "generate", "--router", "cafe-b", "--package", "1h", "--count", "5"]).await,
    );
    assert!(
        e.contains("refused: voucher generate for router cafe-b needs role manager or admin")
            && e.contains("(you are staff for cafe-a)"),
        "{e}"
    );
    assert!(env.store().list_vouchers(&b.id, None).await.expect("vouchers").is_empty());
    assert!(env.store().list_voucher_batches(&b.id).await.expect("batches").is_empty());
    assert!(env.jobs(&b).await.is_empty());
    // ...and may make their own router's.
    let out =
        ok(&env.run(&staff, &["voucher", "generate", "--router", "cafe-a", "--package", "1h", "--count", "5"]).await);
    assert!(out.contains("5 voucher(s)"), "{out}");
    assert_eq!(types(&env.jobs(&a).await), ["vouchers_batch"]);

    // Staff see only their router's sessions; reports, packages and the audit log are above them.
    for (args, needs) in [
        (vec!["session", "list", "--router", "cafe-b"], "manager or admin, or staff for cafe-b"),
        (vec!["report", "revenue", "--from", "2026-01-01", "--to", "2026-01-31"], "needs role manager or admin"),
        (vec!["package", "retire", "--router", "cafe-a", "--id", "1h"], "needs role admin"),
        (vec!["audit"], "needs role admin"),
    ] {
        let e = refused(&env.run(&staff, &args).await);
        assert!(e.contains(needs) && e.contains("you are staff for cafe-a"), "{args:?}: {e}");
    }
    ok(&env.run(&staff, &["session", "list"]).await);
    // Managers: reports and vouchers anywhere, not packages.
    ok(&env.run(&manager, &["report", "revenue", "--from", "2026-01-01", "--to", "2026-01-31"]).await);
    let e = refused(&env.run(&manager, &add_b).await);
    assert!(e.contains("package add for router cafe-b needs role admin (you are manager)"), "{e}");
    assert!(env.jobs(&b).await.is_empty());

    // The last admin stays, removed or demoted.
    let e = refused(&env.run(&env.admin, &["operator", "remove", "--arn", &env.admin.arn]).await);
    assert!(e.contains("last admin"), "{e}");
    let e = refused(&env.run(&env.admin, &["operator", "role", "--arn", &env.admin.arn, "--role", "manager"]).await);
    assert!(e.contains("last admin") && e.contains("nothing was changed"), "{e}");
    // Roles change in place (the same rules as the dashboard's): the manager moves to staff.
    let e = refused(&env.run(&env.admin, &["operator", "role", "--arn", &manager.arn, "--role", "staff"]).await);
    assert!(e.contains("give --router"), "{e}");
    let args = ["operator", "role", "--arn", &manager.arn, "--role", "staff", "--router", "cafe-b"];
    let out = ok(&env.run(&env.admin, &args).await);
    assert!(out.contains("was manager, is now staff for cafe-b"), "{out}");
    let e = refused(&env.run(&manager, &["report", "revenue", "--from", "2026-01-01", "--to", "2026-01-31"]).await);
    assert!(e.contains("you are staff for cafe-b"), "{e}");
    // A record written before the operators index (no `roster`) is not listed until reindexed,
    // once; a second run finds none.
    let db = env.moto.dynamodb();
    let old_arn = "arn:aws:iam::123456789012:user/old-hand";
    let attr = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    db.put_item()
        .table_name("hotspot")
        .item("pk", attr(&format!("OPERATOR#{old_arn}")))
        .item("sk", attr("META"))
        .item("arn", attr(old_arn))
        .item("role", attr("manager"))
        .item("added_by", attr(&env.admin.arn))
        .item("added_at", aws_sdk_dynamodb::types::AttributeValue::N("1780000000".into()))
        .send()
        .await
        .expect("an old-style operator record");
    assert!(!ok(&env.run(&env.admin, &["operator", "list"]).await).contains("old-hand"));
    let e = refused(&env.run(&staff, &["reindex"]).await);
    assert!(e.contains("needs role admin"), "{e}");
    let out = ok(&env.run(&env.admin, &["reindex"]).await);
    assert!(out.contains("indexed 1 operator(s)"), "{out}");
    assert!(ok(&env.run(&env.admin, &["operator", "list"]).await).contains("old-hand"));
    let out = ok(&env.run(&env.admin, &["reindex"]).await);
    assert!(out.contains("indexed 0 operator(s), 0 purchase(s), 0 receipt(s)"), "{out}");

    // The audit log has every action: who, what, result.
    let now = hotspot_core::clock::now_unix();
    let log = env.store().list_audit(now - 3600, now + 60, None).await.expect("audit");
    let refusals: Vec<_> = log.iter().filter(|e| e.result == AuditResult::Refused).collect();
    let staff_refused_b = refusals
        .iter()
        .find(|e| e.who == staff.arn && e.action == "voucher generate")
        .expect("the refused voucher generate is audited");
    assert_eq!(staff_refused_b.role, "staff for cafe-a");
    assert_eq!(staff_refused_b.args.get("router").map(String::as_str), Some("cafe-b"));
    assert!(staff_refused_b.args["argv"].contains("--count 5"));
    assert!(log.iter().any(|e| e.who == staff.arn && e.action == "voucher generate" && e.result == AuditResult::Ok));
    assert!(log.iter().any(|e| e.action == "operator add" && e.result == AuditResult::Error));
    assert!(log.iter().any(|e| e.action == "operator init" && e.result == AuditResult::Ok));
    let shown = ok(&env.run(&env.admin, &["audit", "--who", &staff.arn]).await);
    assert!(shown.contains("refused") && shown.contains("voucher generate"), "{shown}");
    assert!(!shown.contains(&env.admin.arn), "only the staff member's actions: {shown}");
    let e = refused(&env.run(&env.admin, &["audit", "--from", "2026-02-30"]).await);
    assert!(e.contains("not a date"), "{e}");

    // Removing an operator takes effect at once.
    ok(&env.run(&env.admin, &["operator", "remove", "--arn", &staff.arn]).await);
    let e = refused(&env.run(&staff, &["session", "list"]).await);
    assert!(e.contains("are not an operator"), "{e}");
}

#[tokio::test]
async fn packages_reach_the_router_as_sync_jobs() {
    let env = Env::start().await;
    let a = env.router("cafe-a").await;
    ok(&env.run(&env.admin, ADD_1H).await);
    let jobs = env.jobs(&a).await;
    assert_eq!(types(&jobs), ["packages_sync"]);
    assert_eq!(packages_synced(&jobs[0]), ["1h:10"]);
    let day = [
        "package",
        "add",
        "--router",
        "cafe-a",
        "--id",
        "1d",
        "--name",
        "Day pass",
        "--price",
        "50",
        "--validity",
        "1d",
        "--rate-limit",
        "3M/6M",
        "--devices",
        "2",
        "--data-cap-mb",
        "2000",
    ];
    ok(&env.run(&env.admin, &day).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50", "1h:10"]);

    // Bad input changes nothing and sends nothing.
    let dup = refused(&env.run(&env.admin, ADD_1H).await);
    assert!(dup.contains("already exists"), "{dup}");
    let mut bad = ADD_1H.to_vec();
    bad[5] = "2h";
    bad[13] = "fast";
    let e = refused(&env.run(&env.admin, &bad).await);
    assert!(e.contains("rate"), "{e}");
    let mut bad = ADD_1H.to_vec();
    bad[5] = "2h";
    bad[11] = "0s";
    let e = refused(&env.run(&env.admin, &bad).await);
    assert!(e.contains("validity must be longer than zero"), "{e}");
    let e =
        refused(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "9h", "--price", "5"]).await);
    assert!(e.contains("not found"), "{e}");
    let e = refused(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h"]).await);
    assert!(e.contains("no change"), "{e}");
    assert!(env.jobs(&a).await.is_empty());

    // Edit: new terms for new sales.
    ok(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h", "--price", "15"]).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50", "1h:15"]);
    let rec = env.store().get_package(&a.id, &"1h".parse().expect("id")).await.expect("read").expect("there");
    assert_eq!((rec.package.price().plain(), rec.package.name(), rec.on_sale), ("15".into(), "1 hour", true));

    // Retire: off the router's list, kept in the table.
    ok(&env.run(&env.admin, &["package", "retire", "--router", "cafe-a", "--id", "1h"]).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50"]);
    let list = ok(&env.run(&env.admin, &["package", "list", "--router", "cafe-a"]).await);
    assert!(list.contains("retired") && list.contains("on sale") && list.contains("2 package(s)"), "{list}");
    let e = refused(&env.run(&env.admin, &["package", "retire", "--router", "cafe-a", "--id", "1h"]).await);
    assert!(e.contains("already retired"), "{e}");
    let e = refused(
        &env.run(&env.admin, &["voucher", "generate", "--router", "cafe-a", "--package", "1h", "--count", "1"]).await,
    );
    assert!(e.contains("retired"), "{e}");
    // Editing a retired package keeps it retired unless resumed.
    ok(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h", "--name", "One hour"]).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50"]);
    ok(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h", "--resume"]).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50", "1h:15"]);
    ok(&env.run(&env.admin, &["package", "sync", "--router", "cafe-a"]).await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1d:50", "1h:15"]);

    // Wallets: kept on the record and sent with the packages, so the portal offers them.
    ok(&env.run(&env.admin, &["router", "wallets", "--id", "cafe-a", "--wallets", "mpesa,airtel_money"]).await);
    let jobs = env.jobs(&a).await;
    let Payload::PackagesSync(sync) = &jobs[0].payload else { panic!("not a packages_sync") };
    assert_eq!(sync.wallets, [Wallet::Mpesa, Wallet::AirtelMoney]);
    assert_eq!(packages_synced(&jobs[0]), ["1d:50", "1h:15"]);
    let shown = ok(&env.run(&env.admin, &["router", "show", "--id", "cafe-a"]).await);
    assert!(shown.contains("mpesa,airtel_money"), "{shown}");
    for bad in ["", "mpesa,mpesa", "paypal"] {
        refused(&env.run(&env.admin, &["router", "wallets", "--id", "cafe-a", "--wallets", bad]).await);
    }
    let e = refused(&env.run(&env.admin, &["router", "wallets", "--id", "nowhere", "--wallets", "mpesa"]).await);
    assert!(e.contains("not found"), "{e}");
    assert!(env.jobs(&a).await.is_empty(), "refusals send nothing");
    let r = env.store().get_router(&a.id).await.expect("read").expect("there");
    assert_eq!(r.wallets.as_slice(), [Wallet::Mpesa, Wallet::AirtelMoney]);

    // Another country: refused while wallets not sold there or shilling packages stand in the way.
    let ug = ["router", "wallets", "--id", "cafe-a", "--wallets", "airtel_money,mtn_momo", "--country", "UG"];
    let e = refused(&env.run(&env.admin, &["router", "wallets", "--id", "cafe-a", "--wallets", "mtn_momo"]).await);
    assert!(e.contains("MTN MoMo is not sold in Kenya"), "{e}");
    let e = refused(&env.run(&env.admin, &ug).await);
    assert!(e.contains("priced in KES, not UGX"), "{e}");
    for id in ["1h", "1d"] {
        ok(&env.run(&env.admin, &["package", "retire", "--router", "cafe-a", "--id", id]).await);
    }
    env.jobs(&a).await;
    ok(&env.run(&env.admin, &ug).await);
    let jobs = env.jobs(&a).await;
    let Payload::PackagesSync(sync) = &jobs[0].payload else { panic!("not a packages_sync") };
    assert_eq!((sync.country, &sync.wallets[..]), (Some(Country::Uganda), &[Wallet::AirtelMoney, Wallet::MtnMomo][..]));
    // Prices are now Uganda shillings; a shilling package left retired must be given one.
    let e = refused(&env.run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h", "--resume"]).await);
    assert!(e.contains("priced in KES, but cafe-a sells in UGX"), "{e}");
    ok(&env
        .run(&env.admin, &["package", "edit", "--router", "cafe-a", "--id", "1h", "--price", "1000", "--resume"])
        .await);
    assert_eq!(packages_synced(&env.jobs(&a).await[0]), ["1h:1000"]);
    let rec = env.store().get_package(&a.id, &"1h".parse().expect("id")).await.expect("read").expect("there");
    assert_eq!(rec.package.price().to_string(), "UGX 1,000");
    let shown = ok(&env.run(&env.admin, &["router", "show", "--id", "cafe-a"]).await);
    assert!(shown.contains("Uganda (UGX)") && shown.contains("UGX 1,000"), "{shown}");
}

#[tokio::test]
async fn vouchers_are_pushed_in_batches_and_exported() {
    let env = Env::start().await;
    let a = env.router("cafe-a").await;
    ok(&env.run(&env.admin, ADD_1H).await);
    env.jobs(&a).await;
    let out = ok(&env
        .run(&env.admin, &["voucher", "generate", "--router", "cafe-a", "--package", "1h", "--count", "250"])
        .await);
    assert!(out.contains("250 voucher(s)") && out.contains("3 job(s)"), "{out}");
    let jobs = env.jobs(&a).await;
    let mut pushed = Vec::new();
    let mut batch = String::new();
    for j in &jobs {
        let Payload::VouchersBatch(v) = &j.payload else { panic!("not a vouchers_batch: {j:?}") };
        assert_eq!(v.package.id().as_str(), "1h");
        batch = v.batch_id.clone();
        pushed.push(v.codes.len());
        for c in &v.codes {
            assert_eq!(c.as_str().len(), 8);
            assert!(c.as_str().bytes().all(|b| hotspot_core::voucher::ALPHABET.contains(&b)), "{c}");
        }
    }
    assert_eq!(pushed, [100, 100, 50]);
    let codes: HashSet<VoucherCode> = jobs
        .iter()
        .flat_map(|j| match &j.payload {
            Payload::VouchersBatch(v) => v.codes.clone(),
            _ => vec![],
        })
        .collect();
    assert_eq!(codes.len(), 250, "codes are unique");
    let stored = env.store().list_vouchers(&a.id, Some(&batch)).await.expect("vouchers");
    assert_eq!(stored.iter().map(|v| v.code.clone()).collect::<HashSet<_>>(), codes);
    let batches = env.store().list_voucher_batches(&a.id).await.expect("batches");
    assert_eq!((batches.len(), batches[0].count, batches[0].pushed), (1, 250, 250));
    let listed = ok(&env.run(&env.admin, &["voucher", "list", "--router", "cafe-a"]).await);
    assert!(listed.contains(&batch) && listed.contains("250"), "{listed}");

    // The print sheet: every code, the package, its price and the portal's QR code.
    let html = env.dir.path().join("sheet.html");
    let html_s = html.to_str().expect("utf-8 path");
    let export = [
        "voucher",
        "export",
        "--router",
        "cafe-a",
        "--batch",
        &batch,
        "--out",
        html_s,
        "--portal-url",
        "http://wifi.cafe/login",
    ];
    ok(&env.run(&env.admin, &export).await);
    let page = std::fs::read_to_string(&html).expect("sheet");
    assert!(page.contains("size: A4") && page.contains("dashed"));
    assert_eq!(page.matches("class=\"card\"").count(), 250);
    assert_eq!(page.matches("<svg").count(), 250);
    assert!(page.contains("KES 10") && page.contains("1 hour"));
    for c in &codes {
        assert!(page.contains(&c.grouped()), "{c} on the sheet");
    }
    // The same sheet as PDF, read back by poppler (a reader we did not write): every code is on
    // it, 18 cards a page, and it renders; page 1 is kept in artifacts/.
    let pdf = env.dir.path().join("sheet.pdf");
    let pdf_s = pdf.to_str().expect("utf-8 path");
    let mut pdf_export = export;
    pdf_export[7] = pdf_s;
    let mut args = pdf_export.to_vec();
    args.push("--pdf");
    ok(&env.run(&env.admin, &args).await);
    let bytes = std::fs::read(&pdf).expect("pdf written");
    assert!(bytes.starts_with(b"%PDF-"));
    let poppler = |tool: &str, args: &[&str]| {
        let out = std::process::Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(out.status.success(), "{tool}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let info = poppler("pdfinfo", &[pdf_s]);
    assert!(
        info.lines().any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 14")),
        "250 cards, 18 a page: {info}"
    );
    assert!(info.contains("595.276 x 841.89") || info.contains("(A4)"), "A4: {info}");
    let txt = poppler("pdftotext", &["-layout", pdf_s, "-"]);
    for c in &codes {
        assert!(txt.contains(&c.grouped()), "{c} in the PDF's text");
    }
    assert!(txt.contains("KES 10") && txt.contains("1 hour") && txt.contains("http://wifi.cafe/login"));
    let artifacts = testkit::workspace_root().join("artifacts").join("vouchers");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let prefix = artifacts.join("sheet-page");
    poppler(
        "pdftoppm",
        &["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf_s, prefix.to_str().expect("path")],
    );
    let png = std::fs::read(artifacts.join("sheet-page.png")).expect("page 1 rendered");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real page image ({} bytes)", png.len());

    // An existing file is never overwritten; an HTML sheet needs the portal address.
    let e = refused(&env.run(&env.admin, &export).await);
    assert!(e.contains("must not exist"), "{e}");
    let e = refused(&env.run(&env.admin, &["voucher", "export", "--router", "cafe-a", "--out", "x.html"]).await);
    assert!(e.contains("--portal-url"), "{e}");
    assert!(!env.dir.path().join("x.html").exists());

    // CSV of every voucher at the router.
    let csv = env.dir.path().join("codes.csv");
    ok(&env
        .run(
            &env.admin,
            &["voucher", "export", "--router", "cafe-a", "--format", "csv", "--out", csv.to_str().expect("path")],
        )
        .await);
    let csv = std::fs::read_to_string(&csv).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 251);
    assert!(lines[0].starts_with("code,printed,router,package"));
    let from_csv: HashSet<VoucherCode> =
        lines[1..].iter().map(|l| l.split(',').next().expect("code").parse().expect("a voucher code")).collect();
    assert_eq!(from_csv, codes);

    // Bad counts change nothing.
    for count in ["0", "10001"] {
        let e = refused(
            &env.run(&env.admin, &["voucher", "generate", "--router", "cafe-a", "--package", "1h", "--count", count])
                .await,
        );
        assert!(e.contains("count must be 1 to 10000; nothing was changed"), "{e}");
    }
    assert_eq!(env.store().list_voucher_batches(&a.id).await.expect("batches").len(), 1);
    assert!(env.jobs(&a).await.is_empty());
}

fn package_1h() -> Package {
    serde_json::from_value(serde_json::json!({
        "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .expect("package")
}

#[tokio::test]
async fn sessions_are_listed_disconnected_and_extended() {
    let env = Env::start().await;
    let a = env.router("cafe-a").await;
    env.router("cafe-b").await;
    let store = env.store();
    let now = hotspot_core::clock::now_unix();
    let mut ids = Vec::new();
    for (i, router) in [&a.id, &a.id, &"cafe-b".parse().expect("id")].into_iter().enumerate() {
        let id = PurchaseId::generate();
        let mac: MacAddr = format!("DA:A1:19:00:00:0{i}").parse().expect("mac");
        store
            .create_purchase(&NewPurchase {
                id: id.clone(),
                router_id: router.clone(),
                package: package_1h(),
                mac,
                ip: None,
                phone: "254712345678".parse().expect("phone"),
                wallet: hotspot_core::wallet::Wallet::Mpesa,
                created_at: now - 60,
            })
            .await
            .expect("purchase");
        let paid = Paid { receipt: format!("TKL{i}ABCDEF"), amount: package_1h().price(), paid_at: now - 30 };
        let t = store.mark_paid(&id, &paid).await.expect("paid");
        assert!(store.ensure_session(t.purchase()).await.expect("session"));
        ids.push(id);
    }
    let staff = env.identity("akinyi").await;
    ok(&env.run(&env.admin, &["operator", "add", "--arn", &staff.arn, "--role", "staff", "--router", "cafe-a"]).await);

    let all = ok(&env.run(&env.admin, &["session", "list"]).await);
    assert!(all.contains("3 live session(s)"), "{all}");
    let mine = ok(&env.run(&staff, &["session", "list"]).await);
    assert!(mine.contains("2 live session(s)") && !mine.contains(ids[2].as_str()), "{mine}");

    // Extend: the table and the router (an extend job) agree.
    let id0 = ids[0].as_str();
    ok(&env.run(&staff, &["session", "extend", "--router", "cafe-a", "--id", id0, "--by", "30m"]).await);
    let s = store.get_session(&ids[0]).await.expect("read").expect("session");
    assert_eq!(s.expires_at, now - 30 + 3600 + 1800);
    let jobs = env.jobs(&a).await;
    match &jobs[..] {
        [j] => match &j.payload {
            Payload::Extend(x) => assert_eq!((x.purchase_id.clone(), x.expires_at), (ids[0].clone(), s.expires_at)),
            other => panic!("{other:?}"),
        },
        other => panic!("one extend job: {other:?}"),
    }
    // A session at another router is not found through this one.
    let e = refused(
        &env.run(&env.admin, &["session", "extend", "--router", "cafe-a", "--id", ids[2].as_str(), "--by", "1h"]).await,
    );
    assert!(e.contains("no live session"), "{e}");

    // Disconnect: a revoke job, and the session leaves the live list.
    ok(&env.run(&staff, &["session", "disconnect", "--router", "cafe-a", "--id", id0]).await);
    let jobs = env.jobs(&a).await;
    assert!(
        matches!(&jobs[..], [j] if matches!(&j.payload, Payload::Revoke(r) if r.purchase_id == ids[0])),
        "{jobs:?}"
    );
    let s = store.get_session(&ids[0]).await.expect("read").expect("session");
    assert!(s.revoked_at.is_some());
    let e = refused(&env.run(&staff, &["session", "disconnect", "--router", "cafe-a", "--id", id0]).await);
    assert!(e.contains("no live session"), "{e}");
    let e = refused(&env.run(&staff, &["session", "extend", "--router", "cafe-a", "--id", id0, "--by", "1h"]).await);
    assert!(e.contains("no live session"), "{e}");
    assert!(env.jobs(&a).await.is_empty());
    let mine = ok(&env.run(&staff, &["session", "list"]).await);
    assert!(mine.contains("1 live session(s)"), "{mine}");
}
