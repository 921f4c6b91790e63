//! Social-media sources, each in its real wire format: Reddit listings (a subreddit's new posts
//! or comments as public JSON), Telegram's Bot API `getUpdates` (the posts of channels and
//! groups the bot is in), and X's API v2 recent search. Each gives [`Post`]s, stamped with the
//! time this host received them.

mod reddit;
mod telegram;
mod x;

pub use reddit::{RedditPage, parse_reddit};
pub use telegram::{TelegramPage, parse_telegram, retry_after as telegram_retry_after};
pub use x::{XPage, parse_x_search};

use super::Post;

/// A post with text worth scoring (not empty, not a removed or deleted placeholder).
fn keep(post: &Post) -> bool {
    let text = post.text.trim();
    !(text.is_empty() || text == "[removed]" || text == "[deleted]")
}
