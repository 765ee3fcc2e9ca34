//! Work split over two threads, for the few places where one pass over many items costs
//! milliseconds that a person waits for (session files on every commit and every `list`).

/// `work` on the first half of `items` here and on the second half on a thread of its own,
/// joined in order; below `min` items, or when the system refuses a thread (a process limit),
/// all of it here: a hook must not fail a commit over a thread.
pub fn in_halves<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    work: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if items.len() < min.max(2) {
        return work(items);
    }
    let (first, second) = items.split_at(items.len() / 2);
    let work = &work;
    let out = std::thread::scope(|scope| {
        let other = std::thread::Builder::new().spawn_scoped(scope, move || work(second));
        let mut mine = work(first);
        match other.map(|t| t.join()) {
            Ok(Ok(theirs)) => mine.extend(theirs),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => mine.extend(work(second)),
        }
        mine
    });
    debug_assert_eq!(out.len(), items.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_keep_the_order_whatever_the_size() {
        for n in [0, 1, 2, 3, 511, 512, 513, 2000] {
            let items: Vec<usize> = (0..n).collect();
            let out = in_halves(&items, 512, |part| part.iter().map(|i| i * 2).collect());
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
