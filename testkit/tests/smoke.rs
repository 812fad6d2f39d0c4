//! Proves the harness: real DynamoDB conditional puts and SQS FIFO deduplication, through the
//! AWS Rust SDK, against moto_server on a random port.

use aws_sdk_dynamodb::types::AttributeValue;
use testkit::Moto;

#[tokio::test]
async fn dynamodb_conditional_put_refuses_a_second_create() {
    let moto = Moto::start().await.expect("moto starts");
    moto.create_table("purchases", "pk", None).await.unwrap();
    let db = moto.dynamodb();
    let put = |state: &'static str| {
        db.put_item()
            .table_name("purchases")
            .item("pk", AttributeValue::S("p1".into()))
            .item("state", AttributeValue::S(state.into()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
    };
    put("pending").await.expect("first create succeeds");
    let err = put("paid").await.expect_err("second create must fail");
    assert!(
        err.as_service_error().map(|e| e.is_conditional_check_failed_exception()).unwrap_or(false),
        "expected ConditionalCheckFailed, got {err:?}"
    );
    let item = db.get_item().table_name("purchases").key("pk", AttributeValue::S("p1".into())).send().await.unwrap();
    assert_eq!(item.item.unwrap()["state"], AttributeValue::S("pending".into()), "the first write stands");
}

#[tokio::test]
async fn sqs_fifo_deduplicates_and_delivers_in_order() {
    let moto = Moto::start().await.expect("moto starts");
    let url = moto.create_fifo_queue("router-r1.fifo").await.unwrap();
    let sqs = moto.sqs();
    for (body, dedup) in [("grant-a", "p-a"), ("grant-a-again", "p-a"), ("grant-b", "p-b")] {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("r1")
            .message_deduplication_id(dedup)
            .send()
            .await
            .unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        let out =
            sqs.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        for m in out.messages.unwrap_or_default() {
            got.push(m.body.unwrap_or_default());
            sqs.delete_message().queue_url(&url).receipt_handle(m.receipt_handle.unwrap()).send().await.unwrap();
        }
    }
    assert_eq!(got, vec!["grant-a", "grant-b"], "the duplicate deduplication id was dropped, order kept");
}

#[tokio::test]
async fn two_servers_get_different_ports_and_clean_up() {
    let a = Moto::start().await.unwrap();
    let b = Moto::start().await.unwrap();
    assert_ne!(a.port, b.port);
    let port = a.port;
    drop(a);
    // After drop the port is released: nothing answers there any more.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "moto was not stopped");
    drop(b);
}
