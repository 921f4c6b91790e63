//! Exports every callback of the strategy world by name, but `on-bar` takes a number instead of a bar.

wit_bindgen::generate!({
    inline: r#"
        package test:wrong-types;
        world mistyped {
            export init: func(config: string) -> result<_, string>;
            export on-bar: func(open-time: s64);
            export on-trade: func(x: u32);
            export on-book: func(x: u32);
            export on-fill: func(x: u32);
            export on-signal: func(x: u32);
            export on-timer: func(x: u32);
        }
    "#,
});

struct Mistyped;

impl Guest for Mistyped {
    fn init(_config: String) -> Result<(), String> {
        Ok(())
    }
    fn on_bar(_open_time: i64) {}
    fn on_trade(_x: u32) {}
    fn on_book(_x: u32) {}
    fn on_fill(_x: u32) {}
    fn on_signal(_x: u32) {}
    fn on_timer(_x: u32) {}
}

export!(Mistyped);
