//! ASCII sparklines, for LATENCY GRAPH: a series of values drawn as
//! columns of characters a few rows high, each column labelled under it,
//! in the layout Redis's `sparkline.c` prints, so a reader (or a script)
//! used to one reads the other.
//!
//! Each row is a third of a character cell deep: `_`, `o` and `#` mark the
//! bottom, middle and top of a row, and a column that rises past a row
//! fills it with `|`. With 4 rows a column has 12 steps, the lowest value
//! of the series at step 0 and the highest at step 11. The labels are
//! written downwards, one character per line, after one blank line. A
//! series longer than the width is drawn in blocks of `width` columns,
//! one under the other, each scaled to the whole series.

/// The characters that mark a column's top within a row, bottom to top.
const FILL: [u8; 3] = [b'_', b'o', b'#'];

/// Draws `samples` (value, label) as a filled sparkline `rows` high, in
/// blocks of at most `width` columns, and appends it to `out`.
pub fn render(out: &mut String, samples: &[(f64, String)], width: usize, rows: usize) {
    let (min, max) =
        samples.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (v, _)| (lo.min(*v), hi.max(*v)));
    let span = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = FILL.len() * rows;
    let any_label = samples.iter().any(|(_, l)| !l.is_empty());
    for (i, block) in samples.chunks(width.max(1)).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Each column's step: 0 for the series' lowest value, steps - 1
        // for its highest.
        let step: Vec<usize> =
            block.iter().map(|(v, _)| (((v - min) * steps as f64 / span) as usize).min(steps - 1)).collect();
        for row in 0..rows {
            let line: String = step
                .iter()
                .map(|&s| {
                    // How far this column's top is above this row's bottom.
                    let above = s as isize - ((rows - row - 1) * FILL.len()) as isize;
                    match above {
                        a if a < 0 => ' ',
                        a if (a as usize) < FILL.len() => FILL[a as usize] as char,
                        _ => '|',
                    }
                })
                .collect();
            out.push_str(&line);
            out.push('\n');
        }
        if !any_label {
            continue;
        }
        out.push_str(&" ".repeat(block.len()));
        out.push('\n');
        let tallest = block.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        for depth in 0..tallest {
            let line: String =
                block.iter().map(|(_, l)| l.as_bytes().get(depth).map_or(' ', |&b| b as char)).collect();
            out.push_str(&line);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_rise_from_the_lowest_value_to_the_highest() {
        let samples: Vec<(f64, String)> =
            [(1.0, "9s"), (4.0, "8s"), (12.0, "7s")].iter().map(|&(v, l)| (v, l.to_string())).collect();
        let mut out = String::new();
        render(&mut out, &samples, 80, 4);
        // Steps 0, 3 and 11 of 12: the bottom mark, the second row's bottom
        // mark over a filled first row, and a full column.
        assert_eq!(out, "  #\n  |\n _|\n_||\n   \n987\nsss\n");
    }

    #[test]
    fn long_series_are_drawn_in_blocks_and_flat_ones_at_the_bottom() {
        let samples: Vec<(f64, String)> = (0..5).map(|_| (3.0, String::new())).collect();
        let mut out = String::new();
        render(&mut out, &samples, 2, 1);
        assert_eq!(out, "__\n\n__\n\n_\n");
    }
}
