//! Exports `init` and `on-bar` but none of the strategy world's other callbacks.

wit_bindgen::generate!({
    inline: r#"
        package test:wrong-exports;
        world partial {
            export init: func(config: string) -> result<_, string>;
            export on-bar: func(open-time: s64);
        }
    "#,
});

struct Partial;

impl Guest for Partial {
    fn init(_config: String) -> Result<(), String> {
        Ok(())
    }
    fn on_bar(_open_time: i64) {}
}

export!(Partial);
