//! Where a model's span of one type starts and ends, by what a name, an organization or an
//! address looks like in writing: rules the uncased, word-piece model cannot learn from its
//! tokens alone.

use obscura_detection::gazetteer::company_designator;

/// What to do with a span: keep it, taking code points off its ends, or drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bounds {
    Trim {
        leading: usize,
        trailing: usize,
    },
    /// A company named after people ("Bertha Inc", "Wolfram Research"): an organization
    /// from `start` code points into the span, taking `extend` more code points at its end
    /// (the designator after it). A span that runs over a line break into a company's name
    /// ("Selina Eldarkhanov\nSmith" before " Ltd.") starts the company at the last line and
    /// keeps what is before it as it was (a person), without the line break.
    Company {
        start: usize,
        extend: usize,
    },
    Drop,
}

const KEEP: Bounds = Bounds::Trim {
    leading: 0,
    trailing: 0,
};

/// Nouns that head a Spanish or Catalan institution's name ("Hospital …", "Servicio …"):
/// such a name begins with its head and never ends with it, so a span that ends with one
/// has run into the next name ("Hospital General Servicio"), and one that is nothing else
/// is only the start of a name.
const INSTITUTION_HEADS: &[&str] = &[
    "Hospital",
    "Servicio",
    "Servei",
    "Unidad",
    "Unitat",
    "Departamento",
    "Sección",
    "Asociación",
    "Fundación",
    "Fundació",
    "Instituto",
    "Institut",
    "Facultad",
    "Facultat",
    "Clínica",
    "Centro",
    "Centre",
    "Complejo",
    "Universidad",
    "Universitat",
    "Área",
];

/// Words for the patient's sex, which Spanish clinical reports open with ("Niña de 13
/// años"): the patient, not a relative or any other person to name.
const PATIENT_SEX_WORDS: &[&str] = &["niño", "niña", "varón", "mujer", "hombre"];

/// Words of the sentence that a date's span may take at its ends and never holds there.
const DATE_FUNCTION_WORDS: &[&str] = &[
    "el", "la", "los", "las", "de", "del", "a", "en", "desde", "hasta", "the", "on", "of", "in", "since", "until",
];

/// Titles that introduce the next person or street ("… Ovalle Doctor Vertiz 737"); at the
/// end of a person's span they belong to what follows.
const TRAILING_TITLES: &[&str] = &["Doctor", "Doctora", "Dr", "Dr.", "Dra", "Dra.", "Dña.", "Don", "Doña"];

/// Whether `word` is one of an institution's head nouns.
pub(crate) fn is_institution_head(word: &str) -> bool {
    INSTITUTION_HEADS.contains(&word)
}

/// The bounds of a span of `entity` whose text is `span`, between `before` and `after` in
/// the original text, in `language`.
pub(crate) fn typed_bounds(span: &str, entity: &str, language: &str, before: &str, after: &str) -> Bounds {
    // A lone letter is never an entity ("P" of "C.P.").
    let mut letters = span.chars().filter(|character| character.is_alphanumeric());
    if letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none() {
        return Bounds::Drop;
    }
    let words = words_at(span, char::is_whitespace);
    let Some(&(last_at, last)) = words.last() else {
        return KEEP;
    };
    let total = span.chars().count();
    let without_last = || {
        // The last word, the spaces and punctuation before it, and the words that only
        // joined it to the rest ("Servicio de Pediatría del Hospital").
        let kept = span.chars().take(last_at).collect::<String>();
        let mut kept =
            kept.trim_end_matches(|character: char| character.is_whitespace() || matches!(character, ',' | '.'));
        while let Some((rest, word)) = kept.rsplit_once(' ')
            && matches!(word, "de" | "del" | "la" | "las" | "los" | "el" | "y" | "e")
        {
            kept = rest.trim_end();
        }
        Bounds::Trim {
            leading: 0,
            trailing: total - kept.chars().count(),
        }
    };
    let spanish = language == "es";
    match entity {
        "ORGANIZATION" => {
            if spanish && words.len() > 1 && (is_institution_head(last) || is_ordinal(last)) {
                return without_last();
            }
            // A full stop after a name ends the sentence ("Hospital MAZ.", "Scientific Co.");
            // one inside the last word ("S.A.") or after an initial is the name's.
            let next = after.trim_start_matches([' ', '\t']).chars().next();
            let sentence_ends = next.is_none_or(|character| {
                character.is_uppercase() || character.is_ascii_digit() || matches!(character, '\n' | '\r' | ')' | ']')
            });
            if let Some(stem) = last.strip_suffix('.')
                && stem.chars().count() > 1
                && !stem.contains('.')
                && sentence_ends
            {
                return Bounds::Trim {
                    leading: 0,
                    trailing: 1,
                };
            }
            KEEP
        }
        "PERSON" => {
            let lower = span.to_lowercase();
            if spanish && PATIENT_SEX_WORDS.contains(&lower.as_str()) {
                return Bounds::Drop;
            }
            // "médico de familia" is the family doctor, not the patient's family.
            let before = before.to_lowercase();
            if spanish
                && lower == "familia"
                && ["médico de ", "medico de ", "medicina de "]
                    .iter()
                    .any(|phrase| before.ends_with(phrase))
            {
                return Bounds::Drop;
            }
            if words.len() > 1 && TRAILING_TITLES.contains(&last) {
                return without_last();
            }
            // "Bertha Inc", "Wolfram Research", "Thomas and Sons": a company named after people.
            if let Some(extend) = company_designator(last, after) {
                let start = span
                    .rfind('\n')
                    .map_or(0, |line_break| span[..=line_break].chars().count());
                return Bounds::Company { start, extend };
            }
            KEEP
        }
        // "el 30 de agosto del 2003", "octubre del": the sentence's words around a date.
        "DATE_TIME" | "DATE_OF_BIRTH" => {
            let leading = words
                .iter()
                .take_while(|(_, word)| DATE_FUNCTION_WORDS.contains(&word.to_lowercase().as_str()))
                .count();
            let trailing = words
                .iter()
                .rev()
                .take_while(|(_, word)| DATE_FUNCTION_WORDS.contains(&word.to_lowercase().as_str()))
                .count();
            if leading + trailing >= words.len() {
                return Bounds::Drop;
            }
            let start = words[leading].0;
            let (end_at, end_word) = words[words.len() - 1 - trailing];
            Bounds::Trim {
                leading: start,
                trailing: total - (end_at + end_word.chars().count()),
            }
        }
        // "dos meses de edad": the age is "dos meses".
        "AGE" if spanish && words.len() > 2 && span.to_lowercase().ends_with(" de edad") => Bounds::Trim {
            leading: 0,
            trailing: " de edad".len(),
        },
        // "C/ José Luis Gallo, 2. C.P. 45600": the "C" of the postal code's label.
        "ADDRESS" if spanish && words.len() > 1 && last.chars().count() == 1 && after.starts_with(".P") => {
            without_last()
        }
        _ => KEEP,
    }
}

/// A number or ordinal ("2ª", "4º", "3"), which ends no institution's name ("Hospital
/// Morales Meseguer 2ª planta").
fn is_ordinal(word: &str) -> bool {
    let digits = word.trim_end_matches(['ª', 'º', 'o', '°']);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

/// How many code points a span keeps when it runs over a line break into a form's next
/// field ("Calle Cronista Juan de la Torre.\nLocalidad/ Provincia: …"): the line after the
/// break starts with a label, a word followed by a colon or a slash. `extended` is the
/// span's text followed by the text after it, `length` the span's length in code points.
/// Addresses on several lines ("Suite 721\n ASKIM") keep them.
pub(crate) fn before_form_field(extended: &str, length: usize) -> Option<usize> {
    let (at, _) = extended
        .char_indices()
        .take(length)
        .find(|(_, character)| *character == '\n')?;
    let next_line = extended[at + 1..].trim_start();
    let label = next_line.split_whitespace().next()?;
    let is_label =
        label.chars().next().is_some_and(char::is_alphabetic) && (label.contains(':') || label.ends_with('/'));
    if !is_label {
        return None;
    }
    let kept = extended[..at].trim_end();
    let kept = kept.strip_suffix('.').unwrap_or(kept);
    Some(kept.chars().count())
}

/// The words of `span` between characters that `separates`, each with its offset in code
/// points.
pub(crate) fn words_at(span: &str, separates: impl Fn(char) -> bool) -> Vec<(usize, &str)> {
    span.split(separates)
        .scan(0, |offset, word| {
            let at = *offset;
            *offset += word.chars().count() + 1;
            Some((at, word))
        })
        .filter(|(_, word)| !word.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(span: &str, entity: &str) -> Bounds {
        typed_bounds(span, entity, "es", "", "")
    }

    fn trim(leading: usize, trailing: usize) -> Bounds {
        Bounds::Trim { leading, trailing }
    }

    #[test]
    fn an_institution_s_name_does_not_end_with_the_next_one_s_head() {
        assert_eq!(bounds("Hospital General Servicio", "ORGANIZATION"), trim(0, 9));
        assert_eq!(
            bounds("Institut de Medicina Legal de Catalunya Servei", "ORGANIZATION"),
            trim(0, 7)
        );
        assert_eq!(bounds("Hospital Morales Meseguer 2ª", "ORGANIZATION"), trim(0, 3));
        assert_eq!(
            bounds("Servicio de Pediatría del Hospital", "ORGANIZATION"),
            trim(0, 13)
        );
        assert_eq!(bounds("Fundación Hospital de Calahorra", "ORGANIZATION"), KEEP);
        assert_eq!(bounds("Hospital 12 de Octubre", "ORGANIZATION"), KEEP);
        // English names end with their head.
        assert_eq!(
            typed_bounds("Boston Children's Hospital", "ORGANIZATION", "en", "", ""),
            KEEP
        );
    }

    #[test]
    fn a_sentence_s_full_stop_is_not_an_organization_s() {
        assert_eq!(bounds("Hospital MAZ.", "ORGANIZATION"), trim(0, 1));
        assert_eq!(bounds("Boston Scientific Co.", "ORGANIZATION"), trim(0, 1));
        // An abbreviation inside the sentence keeps its stop.
        assert_eq!(typed_bounds("Acme Inc.", "ORGANIZATION", "es", "", " anunció"), KEEP);
        assert_eq!(bounds("CERER, S.A.", "ORGANIZATION"), KEEP);
        assert_eq!(bounds("Carlos J.", "ORGANIZATION"), KEEP);
    }

    #[test]
    fn the_patient_s_sex_and_the_family_doctor_are_not_people_to_name() {
        assert_eq!(bounds("Niña", "PERSON"), Bounds::Drop);
        assert_eq!(bounds("NIño", "PERSON"), Bounds::Drop);
        assert_eq!(
            typed_bounds("familia", "PERSON", "es", "su médico de ", ""),
            Bounds::Drop
        );
        assert_eq!(typed_bounds("familia", "PERSON", "es", "La ", ""), KEEP);
        assert_eq!(bounds("madre", "PERSON"), KEEP);
        assert_eq!(typed_bounds("Niña", "PERSON", "en", "", ""), KEEP);
    }

    #[test]
    fn a_company_named_after_people_is_not_a_person() {
        let person = |span: &str, after: &str| typed_bounds(span, "PERSON", "en", "", after);
        assert_eq!(person("Bertha Inc", ""), Bounds::Company { start: 0, extend: 0 });
        assert_eq!(person("Johnson", " Inc. is"), Bounds::Company { start: 0, extend: 5 });
        assert_eq!(
            person("Wolfram", " Research is"),
            Bounds::Company { start: 0, extend: 9 }
        );
        assert_eq!(
            person("Thomas", " and Sons is an"),
            Bounds::Company { start: 0, extend: 9 }
        );
        // A designator on the next line of text.
        assert_eq!(
            person("Rand", " Corporation\n\n213 Main St"),
            Bounds::Company { start: 0, extend: 12 }
        );
        // The person on the line before the company stays a person.
        assert_eq!(
            person("Selina Eldarkhanov\nSmith", " Ltd.\n30102"),
            Bounds::Company { start: 19, extend: 5 }
        );
        assert_eq!(person("Thomas", " and Sara left"), KEEP);
        assert_eq!(person("Ann Smith", ", the CEO"), KEEP);
    }

    #[test]
    fn a_title_at_the_end_of_a_name_introduces_what_follows() {
        assert_eq!(bounds("Teresa Sada Ovalle Doctor", "PERSON"), trim(0, 7));
        assert_eq!(bounds("Doctor", "PERSON"), KEEP);
    }

    #[test]
    fn lone_letters_and_postal_code_labels_are_not_values() {
        assert_eq!(bounds("P", "ADDRESS"), Bounds::Drop);
        assert_eq!(
            typed_bounds("C/ José Luis Gallo, 2. C", "ADDRESS", "es", "", ".P. 45600"),
            trim(0, 3)
        );
        assert_eq!(
            typed_bounds("Avda. Purísima Concepción 6, 1o A C", "ADDRESS", "es", "", ".P."),
            trim(0, 2)
        );
        assert_eq!(typed_bounds("Calle Mayor 5, 1 A", "ADDRESS", "es", "", ". 28013"), KEEP);
        assert_eq!(bounds("74", "AGE"), KEEP);
    }

    #[test]
    fn dates_and_ages_lose_the_sentence_s_words() {
        assert_eq!(bounds("el 30 de Agosto del 2003", "DATE_TIME"), trim(3, 0));
        assert_eq!(bounds("de febrero de 2001", "DATE_TIME"), trim(3, 0));
        assert_eq!(bounds("octubre del", "DATE_TIME"), trim(0, 4));
        assert_eq!(bounds("30 de agosto del 2003", "DATE_TIME"), KEEP);
        assert_eq!(bounds("de la", "DATE_TIME"), Bounds::Drop);
        assert_eq!(bounds("dos meses de edad", "AGE"), trim(0, 8));
        assert_eq!(bounds("5 años", "AGE"), KEEP);
    }

    #[test]
    fn a_value_stops_at_the_next_field_of_a_form() {
        let span = "Calle Cronista Juan de la Torre.\nLocalidad";
        let extended = format!("{span}/ Provincia: Madrid");
        assert_eq!(before_form_field(&extended, span.chars().count()), Some(31));
        let span = "416 Paseo de Martí\nCP";
        assert_eq!(
            before_form_field(&format!("{span}: 28001"), span.chars().count()),
            Some(18)
        );
        // An address on several lines keeps them.
        let span = "22120 Eriksbo Västergärde 78\n Suite 721\n ASKIM";
        assert_eq!(
            before_form_field(&format!("{span}\n Sweden"), span.chars().count()),
            None
        );
        assert_eq!(before_form_field("Calle Mayor 5", 13), None);
    }
}
