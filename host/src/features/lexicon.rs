//! The sentiment lexicons: market words with their weights, which headlines are scored with
//! ([`score`], unchanged so `sentiment.news_score` keeps its meaning), the same extended with
//! the crypto vocabulary of social media ("moon", "rug", "fud", ...) and its emoji, which posts
//! are scored with ([`social_score`]), and negations that flip the next scored word.

/// Words that read as good or bad news for a market, with their weights.
pub const LEXICON: &[(&str, f64)] = &[
    ("surge", 1.0),
    ("surges", 1.0),
    ("soar", 1.0),
    ("soars", 1.0),
    ("rally", 1.0),
    ("rallies", 1.0),
    ("gain", 0.5),
    ("gains", 0.5),
    ("rise", 0.5),
    ("rises", 0.5),
    ("record", 0.5),
    ("high", 0.3),
    ("bull", 1.0),
    ("bullish", 1.0),
    ("approve", 1.0),
    ("approves", 1.0),
    ("approval", 1.0),
    ("adopt", 0.5),
    ("adoption", 0.5),
    ("upgrade", 0.5),
    ("growth", 0.5),
    ("boost", 0.5),
    ("beat", 0.5),
    ("beats", 0.5),
    ("recover", 0.5),
    ("recovers", 0.5),
    ("partnership", 0.5),
    ("inflows", 0.7),
    ("breakout", 0.7),
    ("crash", -1.0),
    ("crashes", -1.0),
    ("plunge", -1.0),
    ("plunges", -1.0),
    ("slump", -1.0),
    ("fall", -0.5),
    ("falls", -0.5),
    ("drop", -0.5),
    ("drops", -0.5),
    ("loss", -0.5),
    ("losses", -0.5),
    ("bear", -1.0),
    ("bearish", -1.0),
    ("hack", -1.0),
    ("hacked", -1.0),
    ("exploit", -1.0),
    ("ban", -1.0),
    ("bans", -1.0),
    ("lawsuit", -0.7),
    ("sues", -0.7),
    ("fraud", -1.0),
    ("bankrupt", -1.0),
    ("bankruptcy", -1.0),
    ("liquidation", -0.7),
    ("liquidations", -0.7),
    ("outflows", -0.7),
    ("sell-off", -1.0),
    ("selloff", -1.0),
    ("fear", -0.5),
    ("recession", -0.7),
    ("inflation", -0.3),
    ("downgrade", -0.5),
    ("reject", -0.7),
    ("rejects", -0.7),
    ("delay", -0.3),
    ("delays", -0.3),
    ("warning", -0.5),
];

/// The crypto vocabulary of social media and its emoji, beside [`LEXICON`] for posts.
pub const SOCIAL_LEXICON: &[(&str, f64)] = &[
    ("moon", 1.0),
    ("mooning", 1.0),
    ("moonshot", 0.7),
    ("bullrun", 1.0),
    ("pump", 0.5),
    ("pumping", 0.7),
    ("hodl", 0.5),
    ("ath", 0.7),
    ("lambo", 0.7),
    ("wagmi", 0.7),
    ("undervalued", 0.5),
    ("accumulate", 0.5),
    ("accumulating", 0.5),
    ("rug", -1.0),
    ("rugged", -1.0),
    ("rugpull", -1.0),
    ("rug-pull", -1.0),
    ("fud", -0.7),
    ("dump", -0.7),
    ("dumping", -0.7),
    ("dumped", -0.7),
    ("scam", -1.0),
    ("ponzi", -1.0),
    ("ngmi", -0.7),
    ("rekt", -1.0),
    ("bagholder", -0.5),
    ("bagholders", -0.5),
    ("capitulation", -0.7),
    ("overvalued", -0.5),
    ("depeg", -1.0),
    ("depegged", -1.0),
    ("insolvent", -1.0),
    ("shitcoin", -0.5),
    // Emoji, each a token of its own (see [`tokens`]).
    ("🚀", 1.0),
    ("🌕", 0.7),
    ("🌝", 0.7),
    ("💎", 0.5),
    ("🐂", 0.7),
    ("📈", 0.7),
    ("🔥", 0.5),
    ("💰", 0.5),
    ("🤑", 0.5),
    ("🟢", 0.5),
    ("🐻", -0.7),
    ("📉", -0.7),
    ("💀", -0.7),
    ("🩸", -0.7),
    ("😭", -0.5),
    ("😱", -0.5),
    ("🤡", -0.5),
    ("🔴", -0.5),
    ("⚠", -0.5),
];

/// Words that flip the sign of the next scored word.
pub const NEGATIONS: &[&str] = &["no", "not", "never", "without", "fails", "fail"];

/// The words of `text`, lower-cased (letters, digits and hyphens), and each other non-ASCII
/// symbol (an emoji, `₿`) as a token of its own; emoji joiners and variation selectors are
/// dropped.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '-' {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_ascii() && !c.is_whitespace() && !matches!(c, '\u{fe0f}' | '\u{200d}') {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A headline's score: the mean weight of its words in [`LEXICON`] (negations flip the next
/// one), within -1..=1; 0 when no word is scored.
pub fn score(text: &str) -> f64 {
    scored(text, &[LEXICON])
}

/// A social post's score: as [`score`], with [`SOCIAL_LEXICON`] too.
pub fn social_score(text: &str) -> f64 {
    scored(text, &[LEXICON, SOCIAL_LEXICON])
}

fn scored(text: &str, lexicons: &[&[(&str, f64)]]) -> f64 {
    let (mut total, mut scored, mut negate) = (0.0, 0u32, false);
    for token in tokens(text) {
        if NEGATIONS.contains(&token.as_str()) {
            negate = true;
            continue;
        }
        if let Some((_, w)) = lexicons
            .iter()
            .flat_map(|l| l.iter())
            .find(|(k, _)| *k == token)
        {
            total += if negate { -w } else { *w };
            scored += 1;
        }
        negate = false;
    }
    if scored == 0 {
        0.0
    } else {
        (total / f64::from(scored)).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypto_words_and_emoji_score_posts_and_negations_flip_them() {
        assert_eq!(social_score("ETH to the moon 🚀🚀"), 1.0);
        assert_eq!(social_score("another rug, pure fud"), -0.85);
        assert_eq!(social_score("not rugged"), 1.0);
        assert_eq!(
            social_score("not a rug"),
            -1.0,
            "a negation reaches the next word only"
        );
        assert_eq!(social_score("💀📉"), -0.7);
        assert_eq!(
            social_score("⚠️ warning"),
            -0.5,
            "the variation selector is dropped"
        );
        assert_eq!(social_score("gm frens"), 0.0);
        // Headlines keep the market lexicon alone.
        assert_eq!(score("ETH to the moon 🚀 after record inflows"), 0.6);
        assert_eq!(
            tokens("$BTC to 100k 🚀! Sell-off?"),
            ["btc", "to", "100k", "🚀", "sell-off"]
        );
    }
}
