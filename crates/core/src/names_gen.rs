//! Docker-style generated container names (`adjective_surname`), from caller-supplied
//! randomness so the choice stays pure and testable.

const ADJECTIVES: [&str; 32] = [
    "admiring",
    "amazing",
    "bold",
    "brave",
    "busy",
    "charming",
    "clever",
    "cool",
    "dreamy",
    "eager",
    "elastic",
    "epic",
    "festive",
    "focused",
    "gallant",
    "gifted",
    "happy",
    "hopeful",
    "jolly",
    "keen",
    "kind",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "trusting",
    "vibrant",
];

const SURNAMES: [&str; 32] = [
    "agnesi", "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "feynman", "franklin", "galileo",
    "goldberg", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "lovelace", "meitner", "morse", "newton",
    "noether", "pasteur", "ritchie", "shannon", "sinoussi", "tesla", "thompson", "turing", "wozniak", "yalow",
];

/// A name from two random numbers; the caller retries with new ones on a clash.
pub fn generated_name(a: u32, b: u32) -> String {
    format!("{}_{}", ADJECTIVES[a as usize % ADJECTIVES.len()], SURNAMES[b as usize % SURNAMES.len()])
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_valid_container_names() {
        for i in 0..64 {
            let n = super::generated_name(i, i * 7);
            assert!(crate::names::ContainerName::new(&n).is_ok(), "{n}");
        }
        assert_eq!(super::generated_name(0, 24), "admiring_ritchie");
    }
}
