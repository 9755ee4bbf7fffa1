//! The 22 vectors of reference 7.1 against the evaluation algorithms directly (the SQL-level
//! copies are in tests/slt/udfs/window_funnel.slt).

use super::level::Funnel;
use super::mode::Modes;
use crate::events::Event;

const A: u32 = 1;
const B: u32 = 2;
const C: u32 = 4;
const D: u32 = 8;

fn level(window: i64, steps: u32, mode: &str, rows: &[Event]) -> u8 {
    let modes = Modes::parse(mode).unwrap_or_else(|e| panic!("mode {mode}: {e}"));
    let funnel = Funnel {
        window,
        steps,
        modes,
    };
    // Drop unmatched rows as the accumulator does without strict_order.
    let mut rows: Vec<Event> = rows
        .iter()
        .copied()
        .filter(|r| r.1 != 0 || modes.strict_order)
        .collect();
    let forward = funnel.level(&mut rows.clone());
    rows.reverse();
    assert_eq!(forward, funnel.level(&mut rows), "order-insensitive");
    forward
}

#[test]
fn reference_vectors() {
    // Conditions A, B, C (3 steps) unless the case says A, B, C, D; a "D" row in a 3-step
    // funnel matches no condition.
    let cases: &[(u32, i64, &str, &[Event], u8)] = &[
        (3, 10, "", &[(1, A), (2, B), (3, C)], 3),
        (3, 10, "", &[(0, A), (5, B), (10, C)], 3),
        (3, 10, "", &[(0, A), (5, B), (11, C)], 2),
        (3, 10, "", &[(3, C), (1, A), (2, B)], 3),
        (3, 10, "", &[(0, A), (20, A), (25, B), (29, C)], 3),
        (3, 10, "", &[(0, A), (5, B), (8, A), (12, C)], 2),
        (3, 10, "", &[(0, A), (1, C)], 1),
        (3, 10, "", &[(0, B), (1, C)], 0),
        (3, 10, "", &[(0, A), (1, B), (2, 0), (3, C)], 3),
        (3, 10, "strict_order", &[(0, A), (1, B), (2, 0), (3, C)], 2),
        (4, 10, "strict_order", &[(0, A), (1, B), (2, D), (3, C)], 2),
        (4, 10, "", &[(0, A), (1, B), (2, D), (3, C)], 3),
        (
            4,
            100,
            "strict_deduplication",
            &[(0, A), (1, B), (2, C), (3, B), (4, D)],
            3,
        ),
        (4, 100, "", &[(0, A), (1, B), (2, C), (3, B), (4, D)], 4),
        (2, 10, "", &[(1, A), (1, B)], 2),
        (2, 10, "strict_increase", &[(1, A), (1, B)], 1),
        (2, 10, "", &[(1, A | B)], 2),
        (2, 10, "strict_once", &[(1, A | B)], 1),
        (1, 10, "", &[(5, A)], 1),
        (2, 10, "strict_order", &[(0, 0), (1, A), (2, B)], 2),
        (3, 10, "strict_order", &[(0, A), (1, C), (2, B)], 1),
        (
            3,
            10,
            "strict_order, allow_reentry",
            &[(0, A), (1, C), (2, B), (3, C)],
            3,
        ),
    ];
    for (i, &(steps, window, mode, rows, want)) in cases.iter().enumerate() {
        assert_eq!(level(window, steps, mode, rows), want, "vector {}", i + 1);
    }
}

#[test]
fn strict_once_keeps_alternative_chains() {
    // A row matching B and C can be step 2 of one chain and step 3 of another, never both.
    assert_eq!(
        level(10, 3, "strict_once", &[(0, A), (1, B | C), (2, C)]),
        3
    );
    assert_eq!(level(10, 3, "strict_once", &[(0, A), (1, B | C)]), 2);
    assert_eq!(level(10, 3, "", &[(0, A), (1, B | C)]), 3);
}
