//! Numbers written out in Spanish words, as legal and notarial text writes dates and sums:
//! "quince", "treinta y uno", "dos mil veinticuatro", "mil novecientos noventa y ocho".

/// The value of one number word, accents optional; `primero` counts as one (a day).
fn word_value(word: &str) -> Option<u32> {
    let folded: String = word
        .chars()
        .map(|character| match character {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            other => other,
        })
        .collect();
    Some(match folded.as_str() {
        "cero" => 0,
        "uno" | "un" | "una" | "primero" => 1,
        "dos" => 2,
        "tres" => 3,
        "cuatro" => 4,
        "cinco" => 5,
        "seis" => 6,
        "siete" => 7,
        "ocho" => 8,
        "nueve" => 9,
        "diez" => 10,
        "once" => 11,
        "doce" => 12,
        "trece" => 13,
        "catorce" => 14,
        "quince" => 15,
        "dieciseis" => 16,
        "diecisiete" => 17,
        "dieciocho" => 18,
        "diecinueve" => 19,
        "veinte" => 20,
        "veintiuno" | "veintiun" | "veintiuna" => 21,
        "veintidos" => 22,
        "veintitres" => 23,
        "veinticuatro" => 24,
        "veinticinco" => 25,
        "veintiseis" => 26,
        "veintisiete" => 27,
        "veintiocho" => 28,
        "veintinueve" => 29,
        "treinta" => 30,
        "cuarenta" => 40,
        "cincuenta" => 50,
        "sesenta" => 60,
        "setenta" => 70,
        "ochenta" => 80,
        "noventa" => 90,
        "cien" | "ciento" => 100,
        "doscientos" | "doscientas" => 200,
        "trescientos" | "trescientas" => 300,
        "cuatrocientos" | "cuatrocientas" => 400,
        "quinientos" | "quinientas" => 500,
        "seiscientos" | "seiscientas" => 600,
        "setecientos" | "setecientas" => 700,
        "ochocientos" | "ochocientas" => 800,
        "novecientos" | "novecientas" => 900,
        _ => return None,
    })
}

/// The number written by `text` in Spanish words, from 0 to 999,999; `None` when a word is
/// not a number word or the words are not in the order Spanish writes them ("y" only
/// between tens and units, larger parts first).
pub fn spanish_number(text: &str) -> Option<u32> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let mut thousands = 0;
    // The part below a thousand being read, and the smallest value written in it so far: each
    // word must be smaller than the one before ("ciento veinte", not "veinte ciento").
    let mut part = 0;
    let mut last: Option<u32> = None;
    let mut after_y = false;
    for (index, word) in words.iter().enumerate() {
        if *word == "y" {
            // Only between tens (30 to 90) and a unit.
            if after_y || !last.is_some_and(|value| (30..=90).contains(&value) && value % 10 == 0) {
                return None;
            }
            after_y = true;
            continue;
        }
        if *word == "mil" {
            if after_y || thousands > 0 {
                return None;
            }
            thousands = if index == 0 { 1 } else { part } * 1000;
            if thousands == 0 {
                return None;
            }
            part = 0;
            last = None;
            continue;
        }
        let value = word_value(word)?;
        if after_y && !(1..=9).contains(&value) {
            return None;
        }
        if let Some(previous) = last
            && (value >= previous || (previous < 100 && !after_y))
        {
            return None;
        }
        after_y = false;
        part += value;
        last = Some(value);
    }
    if after_y {
        return None;
    }
    Some(thousands + part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_spanish_writes_them() {
        for (text, value) in [
            ("quince", 15),
            ("treinta y uno", 31),
            ("veintitrés", 23),
            ("veintitres", 23),
            ("dos mil veinticuatro", 2024),
            ("mil novecientos noventa y ocho", 1998),
            ("dos mil", 2000),
            ("mil", 1000),
            ("ciento veinte", 120),
            ("Dos Mil Diez", 2010),
        ] {
            assert_eq!(spanish_number(text), Some(value), "{text}");
        }
    }

    #[test]
    fn other_words_and_wrong_orders_are_not_numbers() {
        for text in [
            "",
            "quince en",
            "veinte ciento",
            "treinta y",
            "y uno",
            "diez y siete",
            "quince dos",
            "mil mil",
            "treinta y diez",
        ] {
            assert_eq!(spanish_number(text), None, "{text}");
        }
    }
}
