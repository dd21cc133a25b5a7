//! Just enough POSIX shell word splitting for `LAB_*=` assignments and startup commands.
//!
//! Netkit `eval`s the `LAB_*=` and `machines=` lines of lab.conf, so shell quoting works
//! there; startup files are shell scripts. We never run a shell: this splits words the way
//! `sh` would for the plain cases (single quotes, double quotes with `\` escapes, backslash
//! outside quotes, `#` comments at the start of a word, `;` `&` `|` between commands).
//! Expansions (`$X`, `$(..)`, backquotes) are kept literally: callers treat a word that
//! contains `$` or a backquote as unknown.

/// One token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A word, quotes removed.
    Word(String),
    /// `;`, `&`, `|`, `&&`, `||`: ends a simple command.
    Separator,
}

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A quote that is never closed.
    Unclosed(char),
}

/// Splits `text` into tokens. With `strict`, an unclosed quote is an error; otherwise the
/// rest of the line is taken as quoted.
fn tokenize(text: &str, strict: bool) -> Result<Vec<Token>, SplitError> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    tokens.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            ';' | '&' | '|' => {
                if in_word {
                    tokens.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                tokens.push(Token::Separator);
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    // A backslash-newline is a line continuation: nothing.
                    Some('\n') => {}
                    Some(n) => word.push(n),
                    None => {}
                }
            }
            '\'' => {
                in_word = true;
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == '\'' {
                        closed = true;
                        break;
                    }
                    word.push(n);
                }
                if !closed && strict {
                    return Err(SplitError::Unclosed('\''));
                }
            }
            '"' => {
                in_word = true;
                let mut closed = false;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.peek().copied() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => {
                                chars.next();
                                word.push(e);
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        other => word.push(other),
                    }
                }
                if !closed && strict {
                    return Err(SplitError::Unclosed('"'));
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// The value of a shell assignment `NAME=<rest>`: the first word of `rest` when it starts
/// right after the `=` (empty when `rest` starts with a blank), and whether more words
/// follow it (the shell would run them as a command; we ignore them).
pub(crate) fn assignment_value(rest: &str) -> Result<(String, bool), SplitError> {
    if rest.is_empty() || rest.starts_with([' ', '\t']) {
        let more = !tokenize(rest, true)?.is_empty();
        return Ok((String::new(), more));
    }
    let tokens = tokenize(rest, true)?;
    let mut it = tokens.into_iter();
    let value = match it.next() {
        Some(Token::Word(w)) => w,
        Some(Token::Separator) | None => String::new(),
    };
    Ok((value, it.next().is_some()))
}

/// The simple commands of one (already joined) line of a shell script, each as its words.
/// Lenient: an unclosed quote runs to the end of the line.
pub(crate) fn commands(line: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(line, false).unwrap_or_default();
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for t in tokens {
        match t {
            Token::Word(w) => cur.push(w),
            Token::Separator => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_quoting() {
        assert_eq!(
            assignment_value("\"two words\"").unwrap(),
            ("two words".to_string(), false)
        );
        assert_eq!(
            assignment_value("'a \"b\"'").unwrap(),
            ("a \"b\"".to_string(), false)
        );
        assert_eq!(
            assignment_value("a\\ b").unwrap(),
            ("a b".to_string(), false)
        );
        assert_eq!(
            assignment_value("x\"y z\"w").unwrap(),
            ("xy zw".to_string(), false)
        );
        assert_eq!(
            assignment_value("one two").unwrap(),
            ("one".to_string(), true)
        );
        assert_eq!(
            assignment_value("one # c").unwrap(),
            ("one".to_string(), false)
        );
        assert_eq!(assignment_value(" two").unwrap(), (String::new(), true));
        assert_eq!(assignment_value("").unwrap(), (String::new(), false));
        assert_eq!(assignment_value("\"esc \\\" q\"").unwrap().0, "esc \" q");
        assert_eq!(assignment_value("\"open"), Err(SplitError::Unclosed('"')));
        assert_eq!(assignment_value("'open"), Err(SplitError::Unclosed('\'')));
    }

    #[test]
    fn commands_split_on_separators_and_comments() {
        let c = commands("ifconfig eth0 up; ip a a 10.0.0.1/24 dev eth0 && echo 'x;y' # c");
        assert_eq!(
            c,
            vec![
                vec!["ifconfig", "eth0", "up"],
                vec!["ip", "a", "a", "10.0.0.1/24", "dev", "eth0"],
                vec!["echo", "x;y"],
            ]
        );
        assert_eq!(
            commands("a | b || c & d"),
            vec![vec!["a"], vec!["b"], vec!["c"], vec!["d"]]
        );
        assert_eq!(commands("echo 'open"), vec![vec!["echo", "open"]]);
        assert!(commands("   # only a comment").is_empty());
        assert_eq!(commands("echo a#b"), vec![vec!["echo", "a#b"]]);
    }
}
