//! The command line.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hotspot_core::RouterId;

use crate::rsc::RosVersion;

#[derive(Debug, Parser)]
#[command(name = "hotspotctl", version, about = "Operate the pay-by-M-Pesa hotspot: routers, packages, vouchers")]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
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
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Router id: 3-40 of a-z, 0-9 and '-'. Names its queue, IAM user and RouterOS objects.
    #[arg(long)]
    pub id: RouterId,
    /// Human name, e.g. "Cafe Westlands".
    #[arg(long)]
    pub name: String,
    /// RouterOS version on the router (7.19, 7.20, 7.21…): container property names differ.
    #[arg(long)]
    pub routeros_version: RosVersion,
    /// The shared queue routers report to.
    #[arg(long, env = "EVENTS_QUEUE_URL")]
    pub events_queue_url: String,
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
    /// The image archive as uploaded to the router.
    #[arg(long, default_value = "hotspot-agent-arm64.tar")]
    pub image_file: String,
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
    /// RouterOS API port (plain API on the private link).
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
    /// DNS server(s) for the container (`/container/add dns=`); default: RouterOS's.
    #[arg(long)]
    pub container_dns: Option<String>,
}
