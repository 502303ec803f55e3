//! One stable sort for every list the SPA orders: the generic sort is a few kilobytes of
//! `.wasm` per element type, so lists of references are sorted here through their indices,
//! with one copy of the sort for all of them.

use std::cmp::Ordering;

/// `items` in the order of `cmp`, equal ones kept in their original order (as `sort_by`).
pub fn sorted_by<T>(items: Vec<&T>, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<&T> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_indices(&mut order, &|a, b| cmp(items[a], items[b]));
    order.into_iter().map(|i| items[i]).collect()
}

fn sort_indices(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let items = [(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd')];
        let sorted = sorted_by(items.iter().collect(), |x, y| x.0.cmp(&y.0));
        let got: Vec<char> = sorted.iter().map(|x| x.1).collect();
        assert_eq!(got, ['b', 'd', 'a', 'c']);
    }
}
