//! The command line.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use hotspot_cloud::store::OperatorRole;
use hotspot_core::currency::Decimal;
use hotspot_core::phone::Country;
use hotspot_core::{MacAddr, PackageId, PurchaseId, RateLimit, RosDuration, RouterId};

use crate::dates::{Day, UtcOffset};
use crate::rsc::{DEFAULT_NTP_SERVERS, RosVersion};

#[derive(Debug, Parser)]
#[command(name = "hotspotctl", version, about = "Operate the pay-by-M-Pesa hotspot: routers, packages, vouchers")]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The UTC offset dates are read and shown in (Kenya: +03:00 all year).
    #[arg(long, env = "HOTSPOT_UTC_OFFSET", global = true, default_value = "+03:00")]
    pub utc_offset: UtcOffset,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the stack is. Credentials come from the standard AWS chain (env, profile, SSO, role).
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// The DynamoDB table of the stack.
    #[arg(long, env = "TABLE_NAME", global = true)]
    pub table: Option<String>,
    /// AWS region of the stack (default: the standard chain's).
    #[arg(long, env = "AWS_REGION", global = true)]
    pub region: Option<String>,
    /// Send every AWS call here (the local stack, e.g. moto).
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true, hide_env_values = true)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Routers: provision, list, inspect.
    #[command(subcommand)]
    Router(RouterCmd),
    /// Packages on sale at a router; changes reach the router as a packages_sync job.
    #[command(subcommand)]
    Package(PackageCmd),
    /// Printed vouchers: generate (pushed to the router), list batches, export a print sheet.
    #[command(subcommand)]
    Voucher(VoucherCmd),
    /// Subscriber accounts (PPPoE at home, VPN at the counter) that renew by Paybill.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Guests' sessions: list, disconnect, extend.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Reports.
    #[command(subcommand)]
    Report(ReportCmd),
    /// The audit log of operator actions (admin).
    Audit(AuditArgs),
    /// Who may use hotspotctl, and as what.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// The RADIUS service's certificates (RADIUS mode; local files only, no AWS call).
    #[command(subcommand)]
    Radius(RadiusCmd),
    /// Once, after upgrading from a version without the operators, search and ledger indexes:
    /// gives older records their index attributes (admin; one Scan of the table).
    Reindex,
}

#[derive(Debug, Subcommand)]
pub enum RadiusCmd {
    /// For a new deployment: a CA that signs routers' RadSec certificates (`router add --mode
    /// radius --radius-ca-cert/--radius-ca-key`) and the service's own certificate, in DIR:
    /// ca.pem, ca.key, server.pem, server.key (keys mode 0600) — RADIUS_TLS_DIR's layout.
    Ca {
        /// The directory to write (created; its files must not exist yet).
        #[arg(long)]
        out: PathBuf,
        /// The RADIUS service's DNS name or IPv4 address (its certificate's CN and SAN).
        #[arg(long)]
        server_name: String,
    },
}

/// How the router reaches the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The container agent (RouterOS 7 with containers): a job queue, an IAM user, the agent.
    Agent,
    /// The router's own hotspot asks our RADIUS service (RouterOS 6.41+ over UDP, 7.9+ RadSec).
    Radius,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Become the first admin (only while no operator exists).
    Init,
    /// Your ARN and role.
    Whoami,
    /// Add an operator (admin): an AWS identity for hotspotctl, a dashboard sign-in, or both.
    Add {
        /// The ARN `aws sts get-caller-identity` shows for them (optional with --invite: a
        /// dashboard-only operator is audited as `dashboard:<login>`).
        #[arg(long, required_unless_present = "invite")]
        arn: Option<String>,
        #[arg(long)]
        role: OperatorRole,
        /// Staff only: the router they work at.
        #[arg(long)]
        router: Option<RouterId>,
        /// Give them a dashboard sign-in with this login name (e.g. their e-mail address) and
        /// print a one-time link, valid 7 days, that sets its password.
        #[arg(long, requires = "dashboard_url")]
        invite: Option<String>,
        /// The dashboard's address, e.g. https://api.example.com/admin (`scripts/run.sh` prints it).
        #[arg(long)]
        dashboard_url: Option<String>,
    },
    /// Give an operator another role (admin). The last admin stays one.
    Role {
        #[arg(long)]
        arn: String,
        #[arg(long)]
        role: OperatorRole,
        /// Staff only: the router they work at.
        #[arg(long)]
        router: Option<RouterId>,
    },
    /// Every operator (admin).
    List,
    /// Remove an operator (admin). The last admin cannot be removed.
    Remove {
        #[arg(long)]
        arn: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PackageCmd {
    /// Put a new package on sale.
    Add(PackageAddArgs),
    /// Change a package's terms (new sales only: time already sold keeps its terms).
    Edit(PackageEditArgs),
    /// Stop selling a package; time already sold is honoured.
    Retire {
        #[arg(long)]
        router: RouterId,
        #[arg(long)]
        id: PackageId,
    },
    /// A router's packages, on sale and retired.
    List {
        #[arg(long)]
        router: RouterId,
    },
    /// Send the router its package list again (after a failed send).
    Sync {
        #[arg(long)]
        router: RouterId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StyleArg {
    /// A hotspot user bound to the guest's MAC (metered, rate-limited).
    HotspotUser,
    /// A bypassed ip-binding (unmetered).
    Bypass,
}

#[derive(Debug, Args)]
pub struct PackageAddArgs {
    #[arg(long)]
    pub router: RouterId,
    /// Package id, e.g. 1h: 1-32 of a-z, 0-9 and '-'.
    #[arg(long)]
    pub id: PackageId,
    /// What guests see, e.g. "1 hour".
    #[arg(long)]
    pub name: String,
    /// In the router's currency: whole shillings in Kenya (`50`); `2500` in Uganda; cents where
    /// the currency has them (`2.50` cedis).
    #[arg(long)]
    pub price: Decimal,
    /// Wall-clock time from payment (or a voucher's first use) to expiry, RouterOS notation: 1h, 1d, 1w.
    #[arg(long)]
    pub validity: RosDuration,
    /// rx/tx as RouterOS writes it, e.g. 2M/5M.
    #[arg(long)]
    pub rate_limit: RateLimit,
    /// Devices allowed at once (1-10).
    #[arg(long, default_value_t = 1)]
    pub devices: u8,
    /// Online time allowed within the validity.
    #[arg(long)]
    pub uptime_limit: Option<RosDuration>,
    /// Data allowed, in MB (10^6 bytes).
    #[arg(long)]
    pub data_cap_mb: Option<u64>,
    #[arg(long, value_enum, default_value = "hotspot-user")]
    pub style: StyleArg,
    /// For subscriber accounts sold on it: a payment that is not a whole number of periods is
    /// held for you (`hold`) or renews its share of a period (`pro-rata`).
    #[arg(long, value_enum, default_value = "hold")]
    pub odd_amounts: OddAmountsArg,
}

#[derive(Debug, Args)]
pub struct PackageEditArgs {
    #[arg(long)]
    pub router: RouterId,
    #[arg(long)]
    pub id: PackageId,
    #[arg(long)]
    pub name: Option<String>,
    /// In the router's currency, as for `package add`.
    #[arg(long)]
    pub price: Option<Decimal>,
    #[arg(long)]
    pub validity: Option<RosDuration>,
    #[arg(long)]
    pub rate_limit: Option<RateLimit>,
    #[arg(long)]
    pub devices: Option<u8>,
    /// Set an online-time limit (`--no-uptime-limit` clears it).
    #[arg(long, conflicts_with = "no_uptime_limit")]
    pub uptime_limit: Option<RosDuration>,
    #[arg(long)]
    pub no_uptime_limit: bool,
    /// For accounts sold on it from now on (those sold keep their plan): `hold` or `pro-rata`.
    #[arg(long, value_enum)]
    pub odd_amounts: Option<OddAmountsArg>,
    /// Set a data cap in MB (`--no-data-cap` clears it).
    #[arg(long, conflicts_with = "no_data_cap")]
    pub data_cap_mb: Option<u64>,
    #[arg(long)]
    pub no_data_cap: bool,
    #[arg(long, value_enum)]
    pub style: Option<StyleArg>,
    /// Put a retired package back on sale.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Subcommand)]
pub enum VoucherCmd {
    /// Make vouchers and push them to the router as hotspot users (they work offline).
    Generate {
        #[arg(long)]
        router: RouterId,
        #[arg(long)]
        package: PackageId,
        /// How many (1-10000).
        #[arg(long)]
        count: u32,
        /// Characters per code (8-16).
        #[arg(long, default_value_t = 8)]
        length: usize,
    },
    /// A router's voucher batches.
    List {
        #[arg(long)]
        router: RouterId,
    },
    /// A print-ready sheet (HTML for A4, with cut lines and QR codes) or CSV of a router's vouchers.
    Export {
        #[arg(long)]
        router: RouterId,
        /// One batch (default: every voucher of the router).
        #[arg(long)]
        batch: Option<String>,
        #[arg(long, value_enum, default_value = "html")]
        format: ExportFormat,
        /// Same as --format pdf.
        #[arg(long, conflicts_with = "format")]
        pdf: bool,
        /// Where to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// The address guests open to log in (in the QR code), e.g. http://wifi.cafe/login.
        #[arg(long, env = "HOTSPOT_PORTAL_URL")]
        portal_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Sell an account: prints its number (the subscriber's Paybill account number and PPP user
    /// name) and password, and puts it on the router.
    Add {
        #[arg(long)]
        router: RouterId,
        /// The package it is sold on: its price and validity are the plan (price per period),
        /// its rate limit the line's speed.
        #[arg(long)]
        package: PackageId,
        /// The service: pppoe, l2tp, pptp, sstp, ovpn or any (a PPP secret), or wireguard (a peer;
        /// then `account config` writes the buyer's client config).
        #[arg(long, default_value = "pppoe")]
        service: String,
        /// What a payment that is not a whole number of periods does (default: as the package
        /// says, `package add|edit --odd-amounts`).
        #[arg(long, value_enum)]
        odd_amounts: Option<OddAmountsArg>,
        /// When the time paid at the counter ends: a day (YYYY-MM-DD, the end of it in your
        /// --utc-offset) or Unix seconds. Default: one period from now.
        #[arg(long, conflicts_with = "unpaid")]
        until: Option<crate::dates::Until>,
        /// Nothing paid yet: the account waits for its first Paybill payment.
        #[arg(long)]
        unpaid: bool,
        /// The subscriber's phone (the router's country's way, 0712 345 678, or +254…): an SMS
        /// three days before the paid time ends, and one when it has.
        #[arg(long)]
        phone: Option<String>,
        /// The subscriber's name, as their page (`/account`) greets them.
        #[arg(long)]
        name: Option<String>,
        /// WireGuard: how the buyer's device reaches the router (its public name or address, and
        /// the port, 13231 when left out, forwarded to it); their page then offers the config.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// A router's accounts: number, service, package, until when, renewals.
    List {
        #[arg(long)]
        router: RouterId,
    },
    /// Credit a Paybill payment held in the ledger (a mistyped account number, an account not on
    /// record yet) to the account it was meant for: it renews it as the payment would have, once.
    Credit {
        #[arg(long)]
        router: RouterId,
        /// The M-Pesa receipt (TransID) of the held payment, as the ledger lists it.
        #[arg(long)]
        receipt: String,
        #[arg(long)]
        number: hotspot_core::AccountNumber,
    },
    /// Register the Paybill's confirmation and validation URLs with Daraja (once per shortcode;
    /// again to change them): `<api-url>/cb/c2b/<CALLBACK_SECRET>/confirmation` and `…/validation`.
    /// Reads the functions' own settings from the environment (never from flags, which the audit
    /// log keeps): `DARAJA_ENV`, `DARAJA_CONSUMER_KEY`, `DARAJA_CONSUMER_SECRET`,
    /// `DARAJA_SHORTCODE` (the paybill) and `CALLBACK_SECRET`.
    PaybillUrls {
        /// The HTTP API's public URL (the functions' `CALLBACK_BASE_URL`).
        #[arg(long, env = "CALLBACK_BASE_URL")]
        api_url: String,
        /// What M-Pesa does with a payment when the validation URL cannot be reached: `completed`
        /// (take it; it is then held or renewed at confirmation) or `cancelled` (refuse it).
        #[arg(long, value_enum, default_value = "completed")]
        when_unreachable: WhenUnreachable,
    },
    /// A WireGuard account's client config (and a QR code of it for a phone), once the router has
    /// put the account on: a new file, readable by you alone (it holds the buyer's private key).
    Config {
        #[arg(long)]
        router: RouterId,
        #[arg(long)]
        number: hotspot_core::AccountNumber,
        /// How the buyer's device reaches the router: its public name or address, and the port
        /// (13231 when left out) forwarded to it. Default: the one given at the sale.
        #[arg(long)]
        endpoint: Option<String>,
        /// The DNS server the tunnel uses (left to the device when not given).
        #[arg(long)]
        dns: Option<std::net::Ipv4Addr>,
        /// Where to write the config (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Where to write the QR code (SVG; must not exist).
        #[arg(long)]
        qr: Option<PathBuf>,
    },
}

/// What an account's payment that is not a whole number of periods does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OddAmountsArg {
    /// Held for you in the ledger (and refused at validation, where M-Pesa asks).
    Hold,
    /// Renews its share of a period, to the minute.
    ProRata,
}

impl From<OddAmountsArg> for hotspot_cloud::renewal::OddAmount {
    fn from(a: OddAmountsArg) -> Self {
        match a {
            OddAmountsArg::Hold => hotspot_cloud::renewal::OddAmount::Hold,
            OddAmountsArg::ProRata => hotspot_cloud::renewal::OddAmount::ProRata,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhenUnreachable {
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Html,
    /// A4 PDF with cut lines and a QR code on each card (needs --portal-url).
    Pdf,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum SessionCmd {
    /// Sessions not yet ended by expiry or an operator.
    List {
        /// One router (staff: theirs by default).
        #[arg(long)]
        router: Option<RouterId>,
    },
    /// End a session now (a revoke job to the router).
    Disconnect {
        #[arg(long)]
        router: RouterId,
        /// The purchase id of the session.
        #[arg(long)]
        id: PurchaseId,
    },
    /// Give a session more time (an extend job to the router).
    Extend {
        #[arg(long)]
        router: RouterId,
        #[arg(long)]
        id: PurchaseId,
        /// How much more, RouterOS notation: 30m, 1h, 1d.
        #[arg(long)]
        by: RosDuration,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Revenue from M-Pesa receipts on record, grouped; mismatched and unknown payments apart.
    Revenue(RevenueArgs),
    /// Every M-Pesa receipt against every purchase, one to one: paid-not-granted,
    /// granted-not-paid, unmatched receipts, amount mismatches. `--credit` settles an unmatched
    /// receipt as a grant to a guest's device.
    Ledger(LedgerArgs),
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// First day (inclusive), yyyy-mm-dd, at --utc-offset.
    #[arg(long)]
    pub from: Day,
    /// Last day (inclusive).
    #[arg(long)]
    pub to: Day,
    /// Settle this unmatched M-Pesa receipt (its number, as the ledger lists it) as a grant.
    #[arg(long, requires_all = ["router", "package", "mac"])]
    pub credit: Option<String>,
    /// With --credit: the router the guest paid at.
    #[arg(long)]
    pub router: Option<RouterId>,
    /// With --credit: the package the receipt buys (its price must be the amount paid).
    #[arg(long)]
    pub package: Option<PackageId>,
    /// With --credit: the guest's device.
    #[arg(long)]
    pub mac: Option<MacAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    Router,
    Package,
    Day,
    /// By wallet (M-Pesa, Airtel Money, MTN MoMo) and currency.
    Wallet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Csv,
}

#[derive(Debug, Args)]
pub struct RevenueArgs {
    /// First day (inclusive), yyyy-mm-dd, at --utc-offset.
    #[arg(long)]
    pub from: Day,
    /// Last day (inclusive).
    #[arg(long)]
    pub to: Day,
    #[arg(long, value_enum, default_value = "router")]
    pub by: GroupBy,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Also write the grouped totals as CSV here (must not exist).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write every payment counted or listed apart as CSV here (must not exist).
    #[arg(long)]
    pub details_csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// First day (default: 30 days ago).
    #[arg(long)]
    pub from: Option<Day>,
    /// Last day (default: today).
    #[arg(long)]
    pub to: Option<Day>,
    /// Only this caller's actions (an ARN).
    #[arg(long)]
    pub who: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RouterCmd {
    /// Provision a router in the cloud and write the RouterOS script the ISP imports.
    Add(Box<AddArgs>),
    /// Every router with its last heartbeat.
    List,
    /// One router: record, health, queue depths, packages.
    Show {
        #[arg(long)]
        id: RouterId,
    },
    /// Stop a router selling (a stolen or compromised router): its signed requests are refused,
    /// its guests are told the hotspot is not selling, grants wait until it is enabled.
    Disable {
        #[arg(long)]
        id: RouterId,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Let a disabled router sell again; grants that waited go out on the next sweep.
    Enable {
        #[arg(long)]
        id: RouterId,
    },
    /// New secrets for a router (signing key, AWS access key, RouterOS password) and a short
    /// script that gives them to it; the old ones stop working once the router has switched.
    Rotate(RotateArgs),
    /// The wallets its guests may pay from, in the portal's order (`mpesa,airtel_money,mtn_momo`);
    /// the router's portal shows the choice within a minute.
    Wallets {
        #[arg(long)]
        id: RouterId,
        #[arg(long)]
        wallets: hotspot_core::wallet::Offered,
        /// Move the router to another country (ISO code: KE, UG, TZ, RW, ZM, GH): its guests'
        /// numbers and its prices are read as that country's. Only while it has no packages
        /// priced in another currency.
        #[arg(long)]
        country: Option<Country>,
    },
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[arg(long)]
    pub id: RouterId,
    /// RouterOS version on the router (7.19, 7.20, 7.21…): container property names differ.
    #[arg(long)]
    pub routeros_version: RosVersion,
    /// The agent's RouterOS user, as `router add --api-user` made it.
    #[arg(long, default_value = "hotspot-agent")]
    pub api_user: String,
    /// Where to write the script (mode 0600; it holds secrets). Default: <id>-rotate.rsc
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace a rotation whose script was never imported (that script then stops working).
    #[arg(long)]
    pub again: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Router id: 3-40 of a-z, 0-9 and '-'. Names its queue, IAM user and RouterOS objects.
    #[arg(long)]
    pub id: RouterId,
    /// Human name, e.g. "Cafe Westlands".
    #[arg(long)]
    pub name: String,
    /// Where it sells (ISO code: KE, UG, TZ, RW, ZM, GH): the currency of its prices, the
    /// country of its guests' numbers and its wallets (in Kenya M-Pesa; elsewhere every wallet
    /// sold there; `router wallets` changes them).
    #[arg(long, default_value = "KE")]
    pub country: Country,
    /// RouterOS version on the router (7.19, 7.20, 7.21…: container property names differ;
    /// with --mode radius also 6.41 and later).
    #[arg(long)]
    pub routeros_version: String,
    /// agent (the container agent, RouterOS 7) or radius (the router's own hotspot asks our
    /// RADIUS service: RouterOS 6.41+ over UDP, 7.9+ over RadSec).
    #[arg(long, value_enum, default_value = "agent")]
    pub mode: ModeArg,
    /// The shared queue routers report to (agent mode).
    #[arg(long, env = "EVENTS_QUEUE_URL")]
    pub events_queue_url: Option<String>,
    /// Radius mode: the RADIUS service's IPv4 address (RouterOS `/radius address` is an IP).
    #[arg(long, env = "RADIUS_ADDRESS")]
    pub radius_address: Option<Ipv4Addr>,
    /// Radius mode, RouterOS 6: the public IPv4 address or prefix the router's RADIUS packets
    /// come from (the service matches UDP clients by it).
    #[arg(long)]
    pub radius_client_address: Option<crate::radius::ClientAddress>,
    /// Radius mode, RouterOS 7: the CA certificate that signs routers' RadSec certificates
    /// (`hotspotctl radius ca` makes it).
    #[arg(long, env = "RADIUS_CA_CERT")]
    pub radius_ca_cert: Option<PathBuf>,
    /// Radius mode, RouterOS 7: that CA's private key.
    #[arg(long, env = "RADIUS_CA_KEY")]
    pub radius_ca_key: Option<PathBuf>,
    /// Radius mode: the cloud portal's host name, in the walled garden. Default: the host of
    /// --cloud-api-url.
    #[arg(long)]
    pub portal_host: Option<String>,
    /// The cloud HTTP API's base URL.
    #[arg(long, env = "CLOUD_API_URL")]
    pub cloud_api_url: String,
    /// The HTTP API's id (for the execute-api ARNs); derived from an execute-api URL if unset.
    #[arg(long, env = "HOTSPOT_API_ID")]
    pub api_id: Option<String>,
    /// Where to write the script (mode 0600; it holds secrets). Default: <id>.rsc
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where to write the hotspot pages, their portal address filled in. Default: <id>-hotspot-html
    #[arg(long)]
    pub html_out: Option<PathBuf>,
    /// The router's CPU, naming the default image file: arm64, arm (32-bit ARMv7: hAP ac²,
    /// RB4011), arm32v5 (hEX refresh: it runs only ARMv5 images) or x86_64.
    #[arg(long, default_value = "arm64", value_parser = ["arm64", "arm", "arm32v5", "x86_64"])]
    pub arch: String,
    /// The image archive as uploaded to the router. Default: the one scripts/build-image.sh
    /// writes for --arch and the version: hotspot-agent-VERSION-ARCH.docker.tar up to 7.20,
    /// hotspot-agent-VERSION-ARCH.oci.tar from 7.21.
    #[arg(long)]
    pub image_file: Option<String>,
    /// The bridge created to hold the router's side of the container link.
    #[arg(long, default_value = "containers")]
    pub bridge: String,
    /// The container's veth interface.
    #[arg(long, default_value = "veth-hotspot")]
    pub veth: String,
    /// The container's address: the portal guests are sent to.
    #[arg(long, alias = "container-ip", default_value = "172.17.0.2")]
    pub portal_ip: Ipv4Addr,
    /// The router's address on the container link (the container's gateway).
    #[arg(long, default_value = "172.17.0.1")]
    pub gateway_ip: Ipv4Addr,
    /// Prefix length of the container link.
    #[arg(long, default_value_t = 24)]
    pub prefix: u8,
    /// RouterOS API port (plain API on the private link; not 8729, API-SSL's).
    #[arg(long, default_value_t = 8728)]
    pub api_port: u16,
    /// The agent's RouterOS user (and its group).
    #[arg(long, default_value = "hotspot-agent")]
    pub api_user: String,
    /// Where RouterOS unpacks the image (a USB stick or disk, not the internal flash).
    #[arg(long, default_value = "disk1/hotspot-agent")]
    pub root_dir: String,
    /// The agent's state directory on the router, mounted at /data.
    #[arg(long, default_value = "disk1/hotspot-agent-data")]
    pub data_dir: String,
    /// The hotspot server profile whose pages become ours.
    #[arg(long, default_value = "hsprof1")]
    pub hotspot_profile: String,
    /// The router directory the hotspot-html/ files are uploaded to.
    #[arg(long, default_value = "hotspot-html")]
    pub html_directory: String,
    /// The hotspot server new users belong to.
    #[arg(long, default_value = "all")]
    pub hotspot_server: String,
    /// DNS server(s) for the container (`/container/add dns=`). Default: the router itself
    /// (the container's gateway), with the firewall accept that needs; given, the container
    /// asks these directly (forwarded, no input rule).
    #[arg(long)]
    pub container_dns: Option<String>,
    /// NTP servers for the router's clock, comma-separated (the container shares the clock).
    #[arg(long, default_value = DEFAULT_NTP_SERVERS)]
    pub ntp_servers: String,
}
