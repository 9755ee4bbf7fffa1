//! `chatlake user add/remove/list`: keeping the auth file by hand.
//!
//! | Command | Behaviour |
//! |---|---|
//! | `add NAME` | prompts twice for the password without echo (or reads one line from standard input with `--password-stdin`), stores its SCRAM verifier with the grant (`--tenant T`..., or `--all-tenants`) and limits; an existing user is replaced; the file is created (mode 0600) when missing |
//! | `remove NAME` | drops the user; an unknown name is an error |
//! | `list` | one line per user on stdout: name, tenants, limits (never the verifier) |
//! | `token add NAME` | makes an ingest token (256 random bits, `clk_` + base64url) for `--tenant T`... or `--all-tenants`, prints it once on stdout and stores only its SHA-256 |
//! | `token remove NAME` | drops the token: requests sending it get 401 from then on |
//! | `token list` | one line per token: name, tenants |
//!
//! An empty password, a name that is not a valid user name or a grant of no tenant is refused
//! before anything is written.

use std::io::{BufRead, IsTerminal};

use super::file::{
    AuthFile, IngestToken, Limits, TenantGrant, User, check_memory_limit, check_statement_timeout,
    check_user_name, format_size,
};
use super::scram::Verifier;
use crate::cli::{
    TokenAddArgs, TokenCommand, UserAddArgs, UserCommand, UserListArgs, UserRemoveArgs,
};
use crate::error::{Error, Result};

/// Runs one `chatlake user` subcommand.
pub fn run(command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add(args) => add(args),
        UserCommand::Remove(args) => remove(args),
        UserCommand::List(args) => list(args),
        UserCommand::Token(token) => match token.command {
            TokenCommand::Add(args) => token_add(args),
            TokenCommand::Remove(args) => token_remove(args),
            TokenCommand::List(args) => token_list(args),
        },
    }
}

/// The grant of `--tenant T...` / `--all-tenants`; `what` names the command in the error.
fn grant(tenants: &[String], all_tenants: bool, what: &str) -> Result<TenantGrant> {
    if all_tenants {
        Ok(TenantGrant::All)
    } else if tenants.is_empty() {
        Err(Error::Config(format!(
            "{what}: give the tenants with --tenant T (repeatable), or --all-tenants"
        )))
    } else if tenants.iter().any(|t| t.trim().is_empty()) {
        Err(Error::Config(
            "--tenant: a tenant id cannot be empty".into(),
        ))
    } else {
        Ok(TenantGrant::Only(tenants.to_vec()))
    }
}

fn add(args: UserAddArgs) -> Result<()> {
    check_user_name(&args.name).map_err(Error::Config)?;
    let tenants = grant(
        &args.tenants,
        args.all_tenants,
        &format!("user add {}", args.name),
    )?;
    if let Some(timeout) = &args.statement_timeout {
        check_statement_timeout(timeout).map_err(Error::Config)?;
    }
    let memory_limit = args
        .memory_limit
        .as_deref()
        .map(check_memory_limit)
        .transpose()
        .map_err(Error::Config)?;
    let mut file = AuthFile::load_or_new(&args.auth_file)?;
    let password = if args.password_stdin {
        read_password_line()?
    } else {
        prompt_password(&args.name)?
    };
    if password.is_empty() {
        return Err(Error::Config("an empty password is not allowed".into()));
    }
    let user = User {
        name: args.name.clone(),
        verifier: Verifier::new(&password),
        tenants,
        limits: Limits {
            connection_limit: args.connection_limit,
            statement_timeout: args.statement_timeout,
            memory_limit,
        },
    };
    let grant = user.tenants.to_string();
    let replaced = file.upsert(user);
    file.save(&args.auth_file)?;
    eprintln!(
        "{} user {} ({grant}) in {}",
        if replaced { "updated" } else { "added" },
        args.name,
        args.auth_file.display()
    );
    Ok(())
}

/// The first line of standard input, without its line end.
fn read_password_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| Error::Io {
            context: "reading the password from standard input".into(),
            source,
        })?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}

/// Asks for the password twice on the terminal, without echo.
fn prompt_password(name: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Config(
            "no terminal to ask for the password on: pipe it in with --password-stdin".into(),
        ));
    }
    let io = |source| Error::Io {
        context: "reading the password from the terminal".into(),
        source,
    };
    let first = rpassword::prompt_password(format!("Password for {name}: ")).map_err(io)?;
    let again = rpassword::prompt_password("Again: ").map_err(io)?;
    if first != again {
        return Err(Error::Config(
            "the two passwords differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

fn remove(args: UserRemoveArgs) -> Result<()> {
    let mut file = AuthFile::load(&args.auth_file)?;
    if !file.remove(&args.name) {
        return Err(Error::Config(format!(
            "no user '{}' in {}",
            args.name,
            args.auth_file.display()
        )));
    }
    file.save(&args.auth_file)?;
    eprintln!(
        "removed user {} from {}",
        args.name,
        args.auth_file.display()
    );
    Ok(())
}

fn list(args: UserListArgs) -> Result<()> {
    let file = AuthFile::load(&args.auth_file)?;
    println!("user\ttenants\tconnection_limit\tstatement_timeout\tmemory_limit");
    for user in file.users() {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            user.name,
            user.tenants,
            user.limits
                .connection_limit
                .map_or_else(|| "-".to_string(), |n| n.to_string()),
            user.limits.statement_timeout.as_deref().unwrap_or("-"),
            user.limits
                .memory_limit
                .map_or_else(|| "-".to_string(), format_size),
        );
    }
    Ok(())
}

fn token_add(args: TokenAddArgs) -> Result<()> {
    check_user_name(&args.name)
        .map_err(|e| Error::Config(format!("token name: {}", e.replace("user name", "name"))))?;
    let tenants = grant(
        &args.tenants,
        args.all_tenants,
        &format!("user token add {}", args.name),
    )?;
    let mut file = AuthFile::load_or_new(&args.auth_file)?;
    let (secret, token) = IngestToken::generate(&args.name, tenants);
    let grant = token.tenants.to_string();
    let replaced = file.upsert_token(token);
    file.save(&args.auth_file)?;
    // The token on stdout (for `TOKEN=$(chatlake user token add ...)`), the rest on stderr.
    println!("{secret}");
    eprintln!(
        "{} ingest token {} ({grant}) in {}: send it as `Authorization: Bearer <token>`; it is shown only now",
        if replaced { "replaced" } else { "added" },
        args.name,
        args.auth_file.display()
    );
    Ok(())
}

fn token_remove(args: UserRemoveArgs) -> Result<()> {
    let mut file = AuthFile::load(&args.auth_file)?;
    if !file.remove_token(&args.name) {
        return Err(Error::Config(format!(
            "no ingest token '{}' in {}",
            args.name,
            args.auth_file.display()
        )));
    }
    file.save(&args.auth_file)?;
    eprintln!(
        "removed ingest token {} from {}",
        args.name,
        args.auth_file.display()
    );
    Ok(())
}

fn token_list(args: UserListArgs) -> Result<()> {
    let file = AuthFile::load(&args.auth_file)?;
    println!("token\ttenants");
    for token in file.tokens() {
        println!("{}\t{}", token.name, token.tenants);
    }
    Ok(())
}
