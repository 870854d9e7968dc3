//! The text of the anonymization benchmarks: about one entity per 100 bytes.

/// About 100 KB of Spanish and English sentences, each of about 100 bytes with one entity;
/// a tenth of the values repeat, as names and ids do in real documents.
pub fn corpus() -> String {
    let mut lines = Vec::new();
    for index in 0..1000_u32 {
        let unique = if index % 10 == 0 { 7 } else { index };
        let line = match index % 5 {
            0 => format!("El paciente fue atendido y se le puede escribir a p{unique}.garcia@example.com para citas."),
            1 => format!(
                "Para cualquier consulta sobre el expediente llame al teléfono +34 612 {:03} {:03}.",
                unique % 1000,
                (unique * 7) % 1000
            ),
            2 => {
                "The customer paid with the card on file and asked for a refund to IBAN ES91 2100 0418 4502 0005 1332."
                    .to_owned()
            }
            3 => format!(
                "Según el informe, su documento de identidad es el DNI {:08}{} y consta en el registro.",
                10_000_000 + unique,
                dni_letter(10_000_000 + unique)
            ),
            _ => format!(
                "The server at 10.{}.{}.{} answered slowly this morning and was restarted by the on-call team.",
                unique % 250,
                (unique / 250) % 250,
                1 + unique % 200
            ),
        };
        lines.push(line);
    }
    lines.join("\n")
}

fn dni_letter(number: u32) -> char {
    b"TRWAGMYFPDXBNJZSQVHLCKE"[(number % 23) as usize] as char
}
