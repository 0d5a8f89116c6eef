//! The controller-wide descriptor budget: every guest runs inside the controller's process,
//! so the descriptors guests open come out of the controller's own `RLIMIT_NOFILE`. Without a
//! bound on the sum, 21 guests opening 1,000 files each took all 20,000 and the controller
//! could no longer accept a connection.
//!
//! An [`FdBudget`] is the part of the limit guests may use (the rest stays the controller's).
//! Each running guest holds an [`FdLease`] on it, which its descriptor table consults on every
//! open. The rule is fair share: a guest may open another descriptor while it holds fewer than
//! `total / guests` (at least [`MIN_SHARE`]), else `EMFILE`; when the whole budget is taken,
//! `ENFILE`. A guest is never made to give back what it already holds (no more than a process
//! is), but nothing new goes to a guest above its share, so descriptors freed by anyone flow to
//! the guests below theirs: a guest alone may use the whole budget, and as competitors arrive
//! each one's ceiling falls to an equal part.

use std::sync::{Arc, Mutex};

use crate::errno::Errno;

/// The share no guest is refused below while the budget lasts, however many guests run.
pub const MIN_SHARE: usize = 16;

/// How many of the process's `soft_limit` descriptors go to guests: all but a reserve for the
/// controller itself (listeners, connections, logs, mount directories, module files) of a
/// quarter of the limit and at least 256.
pub fn guest_share_of(soft_limit: u64) -> usize {
    let reserve = (soft_limit / 4).max(256);
    usize::try_from(soft_limit.saturating_sub(reserve)).unwrap_or(usize::MAX)
}

#[derive(Debug, Default)]
struct Usage {
    /// Descriptors held by all guests.
    used: usize,
    /// Guests holding a lease.
    guests: usize,
}

/// The descriptors all guests together may hold. Cheap to clone (clones share the count).
#[derive(Debug, Clone)]
pub struct FdBudget {
    total: usize,
    usage: Arc<Mutex<Usage>>,
}

impl FdBudget {
    pub fn new(total: usize) -> Self {
        Self { total, usage: Arc::default() }
    }

    /// The guests' part of this process's soft `RLIMIT_NOFILE` (see [`guest_share_of`]).
    pub fn from_rlimit() -> Self {
        let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(1 << 20);
        Self::new(guest_share_of(soft))
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Descriptors all guests hold now.
    pub fn in_use(&self) -> usize {
        self.usage.lock().unwrap().used
    }

    /// A lease for one guest; the guest counts as competing until the lease is dropped.
    pub fn lease(&self) -> FdLease {
        self.usage.lock().unwrap().guests += 1;
        FdLease { budget: self.clone(), held: 0 }
    }
}

/// One guest's draw on an [`FdBudget`]; dropping it returns everything the guest held.
#[derive(Debug)]
pub struct FdLease {
    budget: FdBudget,
    held: usize,
}

impl FdLease {
    /// Takes one descriptor for this guest, or says why not.
    pub(crate) fn acquire(&mut self) -> Result<(), Errno> {
        let mut u = self.budget.usage.lock().unwrap();
        admit(self.held, u.used, self.budget.total, u.guests)?;
        u.used += 1;
        self.held += 1;
        Ok(())
    }

    pub(crate) fn release(&mut self) {
        if self.held > 0 {
            self.held -= 1;
            self.budget.usage.lock().unwrap().used -= 1;
        }
    }
}

impl Drop for FdLease {
    fn drop(&mut self) {
        let mut u = self.budget.usage.lock().unwrap();
        u.used -= self.held;
        u.guests -= 1;
    }
}

/// May a guest holding `held` descriptors open another, when all guests hold `used` of `total`
/// and `guests` compete? `EMFILE` past its share, `ENFILE` when the budget is gone.
fn admit(held: usize, used: usize, total: usize, guests: usize) -> Result<(), Errno> {
    let share = (total / guests.max(1)).max(MIN_SHARE.min(total));
    if held >= share {
        Err(Errno::Mfile)
    } else if used >= total {
        Err(Errno::Nfile)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admit_by_fair_share() {
        let cases = [
            // (held, used, total, guests) → answer
            ((0, 0, 100, 1), Ok(())),
            ((99, 99, 100, 1), Ok(())),
            ((100, 100, 100, 1), Err(Errno::Mfile)),
            // Four guests: 25 each; one at its share is refused though the budget lasts.
            ((25, 60, 100, 4), Err(Errno::Mfile)),
            ((10, 60, 100, 4), Ok(())),
            // Below its share, but others (who came first) hold the rest.
            ((10, 100, 100, 4), Err(Errno::Nfile)),
            // Many guests: each may still have the floor while the budget lasts.
            ((15, 50, 100, 50), Ok(())),
            ((16, 50, 100, 50), Err(Errno::Mfile)),
            // A budget smaller than the floor is still a hard total.
            ((4, 4, 4, 1), Err(Errno::Mfile)),
            ((0, 4, 4, 9), Err(Errno::Nfile)),
        ];
        for ((held, used, total, guests), expect) in cases {
            assert_eq!(admit(held, used, total, guests), expect, "{held} {used} {total} {guests}");
        }
    }

    #[test]
    fn controller_keeps_a_reserve() {
        assert_eq!(guest_share_of(20_000), 15_000);
        assert_eq!(guest_share_of(1024), 768);
        assert_eq!(guest_share_of(300), 44);
        assert_eq!(guest_share_of(100), 0);
    }

    #[test]
    fn leases_share_and_return_descriptors() {
        let budget = FdBudget::new(40);
        let mut a = budget.lease();
        for _ in 0..40 {
            a.acquire().unwrap();
        }
        assert_eq!(a.acquire(), Err(Errno::Mfile));
        let mut b = budget.lease();
        // `a` is over its new share of 20; `b` finds nothing left until `a` closes some.
        assert_eq!(b.acquire(), Err(Errno::Nfile));
        for _ in 0..30 {
            a.release();
        }
        assert_eq!(a.acquire(), Ok(()));
        assert_eq!(budget.in_use(), 11);
        for _ in 0..20 {
            b.acquire().unwrap();
        }
        assert_eq!(b.acquire(), Err(Errno::Mfile));
        drop(a);
        assert_eq!(budget.in_use(), 20);
        drop(b);
        assert_eq!(budget.in_use(), 0);
    }
}
