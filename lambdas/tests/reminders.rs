//! Subscribers' SMS reminders against moto DynamoDB and the Africa's Talking simulator: three
//! days before an account ends and once it has, at most once each per expiry, to accounts with a
//! phone; a renewal arms them again for the new expiry.

use hotspot_cloud::paybill::confirm;
use hotspot_cloud::renewal::{OddAmount, Plan};
use hotspot_cloud::store::{AccountRecord, C2bRecord, RouterRecord, Store, schema};
use hotspot_core::currency::{Currency, Money};
use hotspot_core::{AccountNumber, RouterKey};
use lambdas::reminders::{send_reminders, send_welcomes};
use lambdas::sms::{SmsClient, SmsConfig};
use testkit::Moto;

const NOW: i64 = 1_790_000_000;
const DAY: i64 = 86_400;

fn kes(units: u64) -> Money {
    Money::whole_units(Currency::Kes, units).unwrap()
}

async fn account(store: &Store, expires_at: i64, phone: Option<&str>) -> AccountNumber {
    let number = AccountNumber::issue();
    store
        .create_account(&AccountRecord {
            number: number.clone(),
            router_id: "cafe-01".parse().unwrap(),
            package_id: "home-10m".parse().unwrap(),
            service: "pppoe".into(),
            password: "pw".into(),
            plan: Plan { price: kes(1500), period_secs: 30 * DAY, odd_amount: OddAmount::Hold },
            expires_at,
            created_at: NOW - 30 * DAY,
            renewals: 0,
            phone: phone.map(|p| p.parse().unwrap()),
            reminded_for: None,
            ended_notice_for: None,
            name: None,
            wireguard: None,
        })
        .await
        .unwrap();
    number
}

async fn setup() -> (Moto, Store, daraja_sim::SmsSim, SmsClient) {
    let moto = Moto::start().await.unwrap();
    schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
    let store = Store::new(moto.dynamodb(), "hotspot");
    store
        .put_router(&RouterRecord::new(
            "cafe-01".parse().unwrap(),
            "Cafe",
            format!("{}/123456789012/router-cafe-01.fifo", moto.endpoint),
            RouterKey::generate(),
            0,
        ))
        .await
        .unwrap();
    let sim = daraja_sim::SmsSim::start().await.unwrap();
    let sms = SmsClient::new(SmsConfig {
        base_url: sim.base_url(),
        username: daraja_sim::SMS_USERNAME.into(),
        api_key: daraja_sim::SMS_API_KEY.into(),
        sender_id: None,
    })
    .unwrap();
    (moto, store, sim, sms)
}

#[tokio::test]
async fn reminders_go_once_before_and_once_at_the_end() {
    let (_moto, store, sim, sms) = setup().await;
    let soon = account(&store, NOW + 2 * DAY, Some("254712345678")).await;
    let ended = account(&store, NOW - 3600, Some("254722000111")).await;
    let _later = account(&store, NOW + 10 * DAY, Some("254733000222")).await;
    let _no_phone = account(&store, NOW + DAY, None).await;
    let _long_gone = account(&store, NOW - 5 * DAY, Some("254744000333")).await;

    assert_eq!(send_reminders(&store, &sms, Some("600638"), NOW).await.unwrap(), 2);
    let msgs = sim.messages();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let to = |m: &daraja_sim::SmsMessage| m.to.clone();
    let soon_msg = msgs.iter().find(|m| to(m) == "+254712345678").expect("the ending-soon reminder");
    assert!(
        soon_msg.message.contains(soon.as_str()) && soon_msg.message.contains("Paybill 600638"),
        "{}",
        soon_msg.message
    );
    assert!(soon_msg.message.contains("ends") && soon_msg.message.contains("EAT"), "{}", soon_msg.message);
    let ended_msg = msgs.iter().find(|m| to(m) == "+254722000111").expect("the has-ended notice");
    assert!(ended_msg.message.contains("has ended") && ended_msg.message.contains(ended.as_str()));
    assert!(msgs.iter().all(|m| m.message.chars().count() <= 160), "one segment each");

    // The next runs (each minute): nothing more.
    assert_eq!(send_reminders(&store, &sms, Some("600638"), NOW + 60).await.unwrap(), 0);
    assert_eq!(send_reminders(&store, &sms, Some("600638"), NOW + 3600).await.unwrap(), 0);

    // Renewed: nothing now; three days before the new end, reminded again.
    let pay = C2bRecord { trans_id: "RKTQDM7WB0".into(), bill_ref: soon.to_string(), amount: kes(1500), at: NOW };
    confirm(&store, &pay, NOW).await.unwrap();
    assert_eq!(send_reminders(&store, &sms, Some("600638"), NOW + 120).await.unwrap(), 0);
    let new_end = store.get_account(&soon).await.unwrap().unwrap().expires_at;
    assert_eq!(send_reminders(&store, &sms, Some("600638"), new_end - 2 * DAY).await.unwrap(), 1);
    assert_eq!(sim.messages().len(), 3);
}

#[tokio::test]
async fn a_sales_welcome_goes_once_with_the_credentials_and_a_stale_one_is_dropped() {
    let (_moto, store, sim, sms) = setup().await;
    let fresh = account(&store, NOW + 30 * DAY, Some("254712345678")).await;
    let stale = account(&store, NOW + 30 * DAY, Some("254722000111")).await;
    store.queue_welcome(&fresh, NOW - 30).await.unwrap();
    store.queue_welcome(&stale, NOW - 2 * DAY).await.unwrap();

    let page = "https://api.example.com/account";
    assert_eq!(send_welcomes(&store, &sms, Some("600638"), Some(page), NOW).await.unwrap(), 1);
    let msgs = sim.messages();
    assert_eq!(msgs.len(), 1, "the stale one is not sent: {msgs:?}");
    let m = &msgs[0];
    assert_eq!(m.to, "+254712345678");
    for part in [fresh.as_str(), "password pw", "PPPOE", "Paybill 600638", "KES", page] {
        assert!(m.message.contains(part), "{part:?} in {}", m.message);
    }
    assert!(m.message.chars().count() <= 306, "two segments at most: {}", m.message);
    // Both are off the queue: the next runs send nothing, even when told of the same account again.
    assert_eq!(send_welcomes(&store, &sms, Some("600638"), Some(page), NOW + 60).await.unwrap(), 0);
    assert!(store.queued_welcomes().await.unwrap().is_empty());
    assert_eq!(sim.messages().len(), 1);
}
