//! The wheel's storage: a slab of entries, and the intrusive lists through it.
//!
//! Every timer lives in one `Vec` slot for its whole life, so moving it from
//! a coarse slot to a finer one (cascading) only rewrites two links, and a
//! [`TimerKey`] stays valid across moves. A slot's lists are doubly linked by
//! index, so unlinking a timer from the middle of its list is O(1) without
//! searching. Vacant slots form a singly linked free list through `next`.
//!
//! A key carries the generation of the slot it was issued for; removing a
//! timer bumps the generation, so a key kept after its timer fired or was
//! removed no longer matches and is rejected instead of naming whatever
//! timer reuses the slot.

/// The "no entry" index that ends a list.
pub(crate) const NIL: u32 = u32::MAX;

/// Names a timer in a [`TimerWheel`](super::TimerWheel).
///
/// Returned by [`insert`](super::TimerWheel::insert) and handed back with the
/// value when the timer expires. A key is good until its timer expires or is
/// removed; after that every method taking it treats it as unknown, even when
/// its storage has been reused by a newer timer. (The generation is 32 bits:
/// a key would only match again after its slot had been reused `2^32`
/// times while the key was kept.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

/// Which list an occupied entry is on: a wheel slot, or the overflow list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListId {
    /// Slot `slot` (0..64) of level `level` (0..LEVELS).
    Slot { level: u8, slot: u8 },
    /// Deadlines too far ahead for the top level.
    Overflow,
}

/// Head and tail of one intrusive list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    pub(crate) head: u32,
    pub(crate) tail: u32,
}

impl List {
    pub(crate) const EMPTY: List = List { head: NIL, tail: NIL };

    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// One slab slot.
struct Node<T> {
    /// Bumped every time the slot is vacated; a key matches only while equal.
    gen: u32,
    /// `Some` exactly while the slot is occupied.
    value: Option<T>,
    /// The timer's deadline in ticks, as given to `insert` (a past deadline
    /// is kept as given; only its placement is clamped to the wheel's now).
    deadline: u64,
    /// The list this entry is linked on; meaningless while vacant.
    list: ListId,
    prev: u32,
    /// Next entry in the list, or next vacant slot while vacant.
    next: u32,
}

/// The entries of a wheel, with a free list of vacated slots.
pub(crate) struct Slab<T> {
    nodes: Vec<Node<T>>,
    free: u32,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Slab { nodes: Vec::with_capacity(n), free: NIL, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores a new unlinked entry and returns its key.
    ///
    /// # Panics
    /// When more than `u32::MAX - 1` timers are pending at once.
    pub(crate) fn alloc(&mut self, deadline: u64, value: T) -> TimerKey {
        self.len += 1;
        if self.free != NIL {
            let index = self.free;
            let node = &mut self.nodes[index as usize];
            self.free = node.next;
            node.value = Some(value);
            node.deadline = deadline;
            node.prev = NIL;
            node.next = NIL;
            return TimerKey { index, gen: node.gen };
        }
        let index = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i != NIL)
            .expect("TimerWheel: more than u32::MAX - 1 pending timers");
        self.nodes.push(Node {
            gen: 0,
            value: Some(value),
            deadline,
            list: ListId::Overflow,
            prev: NIL,
            next: NIL,
        });
        TimerKey { index, gen: 0 }
    }

    /// The index `key` names, if it names a live entry.
    pub(crate) fn lookup(&self, key: TimerKey) -> Option<u32> {
        let node = self.nodes.get(key.index as usize)?;
        (node.gen == key.gen && node.value.is_some()).then_some(key.index)
    }

    /// Vacates an occupied, already unlinked entry; returns its value.
    pub(crate) fn free(&mut self, index: u32) -> T {
        let node = &mut self.nodes[index as usize];
        let value = node.value.take().expect("TimerWheel: freeing a vacant entry");
        node.gen = node.gen.wrapping_add(1);
        node.next = self.free;
        self.free = index;
        self.len -= 1;
        value
    }

    pub(crate) fn key(&self, index: u32) -> TimerKey {
        TimerKey { index, gen: self.nodes[index as usize].gen }
    }

    pub(crate) fn deadline(&self, index: u32) -> u64 {
        self.nodes[index as usize].deadline
    }

    pub(crate) fn set_deadline(&mut self, index: u32, deadline: u64) {
        self.nodes[index as usize].deadline = deadline;
    }

    pub(crate) fn list_of(&self, index: u32) -> ListId {
        self.nodes[index as usize].list
    }

    pub(crate) fn next(&self, index: u32) -> u32 {
        self.nodes[index as usize].next
    }

    pub(crate) fn value(&self, index: u32) -> &T {
        self.nodes[index as usize].value.as_ref().expect("occupied")
    }

    pub(crate) fn value_mut(&mut self, index: u32) -> &mut T {
        self.nodes[index as usize].value.as_mut().expect("occupied")
    }

    /// Appends `index` to `list`, which is `id`.
    pub(crate) fn push_back(&mut self, list: &mut List, id: ListId, index: u32) {
        let node = &mut self.nodes[index as usize];
        node.list = id;
        node.prev = list.tail;
        node.next = NIL;
        if list.tail == NIL {
            list.head = index;
        } else {
            self.nodes[list.tail as usize].next = index;
        }
        list.tail = index;
    }

    /// Unlinks `index` from `list`, the list it is on.
    pub(crate) fn unlink(&mut self, list: &mut List, index: u32) {
        let (prev, next) = {
            let node = &self.nodes[index as usize];
            (node.prev, node.next)
        };
        if prev == NIL {
            list.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    /// Unlinks and returns the head of `list`, if any.
    pub(crate) fn pop_front(&mut self, list: &mut List) -> Option<u32> {
        let head = list.head;
        if head == NIL {
            return None;
        }
        self.unlink(list, head);
        Some(head)
    }
}
