//! Voucher sheets as CSV (the HTML and PDF sheets are `hotspot_cloud::vouchers`, shared with the
//! dashboard).

use hotspot_cloud::store::VoucherRecord;

pub use hotspot_cloud::csv::field as csv_field;

pub fn csv(vouchers: &[VoucherRecord], offset: crate::dates::UtcOffset) -> String {
    let mut out = String::from("code,printed,router,package,package_name,currency,price,validity,batch,created\n");
    for v in vouchers {
        let p = &v.package;
        let row = [
            v.code.to_string(),
            v.code.grouped(),
            v.router_id.to_string(),
            p.id().to_string(),
            p.name().to_string(),
            p.price().currency().to_string(),
            p.price().plain(),
            p.validity().to_string(),
            v.batch_id.clone(),
            crate::dates::minute(v.created_at, offset),
        ];
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::{Package, VoucherCode};

    fn voucher(code: &str, name: &str) -> VoucherRecord {
        let package: Package = serde_json::from_value(serde_json::json!({
            "id": "1d", "name": name, "price": 50, "validity": "1d", "rate_limit": "2M/5M", "devices": 1
        }))
        .unwrap();
        VoucherRecord {
            code: code.parse::<VoucherCode>().unwrap(),
            router_id: "cafe-a".parse().unwrap(),
            batch_id: "vb-1".into(),
            package,
            created_at: 1_790_000_000,
            used: None,
        }
    }

    #[test]
    fn csv_rows_and_quoting() {
        let vs = [voucher("ABCD2345", "Day, \"pass\""), voucher("WXYZ6789", "=HYPERLINK(1)")];
        let out = csv(&vs, crate::dates::UtcOffset::NAIROBI);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "ABCD2345,ABCD-2345,cafe-a,1d,\"Day, \"\"pass\"\"\",KES,50,1d,vb-1,2026-09-21 17:13");
        assert!(lines[2].contains(",'=HYPERLINK(1),"), "{}", lines[2]);
    }
}
