/*
 * pfnconsole._probe: a user-space replica of the 2015 kmap_pfn lookup, for measuring on
 * this CPU what the simulator (pfnconsole/core/kmap_pfn.py, paths.py) only models.
 *
 * This is NOT kernel code and touches no device: every structure lives in this process's
 * heap, every "kernel address" it returns is a number computed from a fake base and never
 * dereferenced.  What it keeps from the kernel is the shape of the data and of the loops:
 *
 *   - mm/kmap_pfn.c of "[PATCH v5 2/5] allow mapping page-less memremaped areas into KVA"
 *     (2015): devm_register_kmap_pfn_range() kzalloc()s a struct kmap and list_add_rcu()s
 *     it at the head of the global `ranges` list; kmap_atomic_pfn_t() walks that list for
 *     the range holding a physical address; kunmap_atomic_pfn_t() walks it again to tell a
 *     device address from a kmap_atomic() page;
 *   - the reviewer's alternative (Boaz Harrosh, linux-mm, Aug 2015): a table indexed like
 *     mem_section (include/linux/mmzone.h __nr_to_section(), SPARSEMEM_EXTREME), each
 *     section's slot widened to hold the base and bounds of the range covering it;
 *   - what the merged kernel did later: get_dev_pagemap() (mm/memremap.c, v4.16+ shape)
 *     looking a pfn up in an xarray of dev_pagemaps stored with xa_store_range();
 *   - the page path: page_address(pfn_to_page(pfn)) with x86_64 SPARSEMEM_VMEMMAP
 *     (include/asm-generic/memory_model.h __pfn_to_page/__page_to_pfn) and the
 *     CONFIG_RANDOMIZE_MEMORY base variables.
 *
 * Layout: x86_64 (LP64), the 2015 structures as they were.  Each struct kmap sits alone in
 * a 64-byte line on a 4 KiB page of its own, staggered by 64 bytes per range so that they
 * spread over the L1 sets; each struct resource likewise, in a separate region, staggered
 * by another stride.  The in-page offsets are the simulator's (paths.kmap_at() and
 * resource_at(), with seq = registration index + 1).
 *
 * Loads per lookup, default layout (1 GiB ranges from 0x440000000, so a newer range lies
 * above every older one), counted as the simulator counts them (paths.py):
 *   list    kmap_atomic_pfn_t(), hit at the k-th node in walk order: 3 per node passed
 *           (the pointer that reached it, kmap->res, res->start: addr < start, so the &&
 *           stops), 5 at the hit (+res->end, kmap->base): 3k+2, so 3N+2 for the oldest of N
 *           ranges; a miss below every range 3N+1 (the final next back to the head), above
 *           every range 4N+1.  Dependent: the k next pointers, then res, then res->start.
 *   unlist  kunmap_atomic_pfn_t(): 5 per node (next, kmap->base, kmap->res, res->start,
 *           res->end: the C test's left side, base + resource_size(res), comes first),
 *           plus the last next on a miss: 5k, or 5N+1.
 *   section 2 dependent lines: mem_section[root], then the slot (base, start and end share
 *           its line), whatever N.
 *   pgmap   xa_head, then per tree level node->shift and node->slots[offset] (+1 when the
 *           slot is a sibling of a multi-index entry), then pgmap->res.start and .end.
 *           1 GiB ranges are 2^18 pfns, one slot at shift 18: for N <= 47 the tree is one
 *           node of shift 18 (pfns below 2^24): 3 tree loads + 2 = 5; 48 <= N <= 4079 adds
 *           a level of shift 24: 7; N >= 4080 a third (shift 30): 9.  The two range loads
 *           both hang off the entry, so the dependent depth is one less (4, 6, 8).
 *   page    2 independent loads on one line (vmemmap_base, page_offset_base) and ALU work.
 *
 * Timing (time()): hot samples time batches of lookups chained one onto the next (each
 * lookup's first load waits for every load of the one before, see DEFINE_BATCH); cold
 * samples time one lookup after clflush of every line above (x86_64) and/or reading an
 * eviction buffer.  Caveat: the kmaps (and resources) sit at a constant stride (4 KiB +
 * 64 bytes), which a hardware stride prefetcher can follow, so a cold walk of many nodes
 * costs less per node than one DRAM miss each; slab objects allocated at different times
 * would not be so regular.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <x86intrin.h>
#define PROBE_X86 1
#else
#define PROBE_X86 0
#endif

/* ------------------------------------------------------------------------------------ */
/* compiler helpers                                                                      */

/* A compiler barrier: memory may have changed, so every load after it is done again. */
#define barrier() __asm__ __volatile__("" ::: "memory")
/* Make a value opaque: the compiler no longer knows what it holds (no instruction).  The
 * volatile form stays where it is written (never sunk out of a loop), for the values a
 * lookup hands back as its last load. */
#define OPAQUE(x) __asm__("" : "+r"(x))
#define OPAQUE_HERE(x) __asm__ __volatile__("" : "+r"(x))
/* rcu_dereference()/READ_ONCE(): one real load, never merged or hoisted. */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
/* The object `var` reached through its address plus dz, a zero the compiler cannot see
 * through: timed runs pass the previous lookup's result & 0 here, so even a lookup's
 * first load (of a global at a fixed address) waits for the lookup before it.  Calls
 * from Python pass a constant 0 and the addition folds away. */
#define AT(var, dz) (*(__typeof__(var) *)((uintptr_t)&(var) + (dz)))

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define LINE 64

/* ------------------------------------------------------------------------------------ */
/* the 2015 structures (x86_64)                                                          */

struct list_head {
	struct list_head *next, *prev;
};

/* include/linux/ioport.h before v4.6 added `desc`: 56 bytes on 64-bit. */
struct resource {
	uint64_t start, end; /* resource_size_t = phys_addr_t: u64 on x86_64 */
	const char *name;
	unsigned long flags;
	struct resource *parent, *sibling, *child;
};

/* mm/kmap_pfn.c: 40 bytes, from kmalloc-64. */
struct kmap {
	struct list_head list;
	struct resource *res;
	void *dev; /* struct device * */
	void *base;
};

/* `static LIST_HEAD(ranges)` in .data, on a line of its own. */
static struct list_head ranges __attribute__((aligned(LINE))) = {&ranges, &ranges};

/* ------------------------------------------------------------------------------------ */
/* the section table (SPARSEMEM_EXTREME shape)                                           */

#define SECTION_SIZE_BITS 27 /* arch/x86/include/asm/sparsemem.h, x86_64: 128 MiB */
#define PFN_SECTION_SHIFT (SECTION_SIZE_BITS - PAGE_SHIFT)
#define MAX_PHYSMEM_BITS 46 /* x86_64, 4-level paging (2015) */
#define NR_MEM_SECTIONS (1UL << (MAX_PHYSMEM_BITS - SECTION_SIZE_BITS))

/* The kernel's struct mem_section of 2015 (no CONFIG_PAGE_EXTENSION): 16 bytes on 64-bit,
 * which is what makes a root page hold 256 of them. */
struct mem_section {
	unsigned long section_mem_map;
	unsigned long *pageblock_flags;
};
#define SECTIONS_PER_ROOT (PAGE_SIZE / sizeof(struct mem_section))
#define NR_SECTION_ROOTS ((NR_MEM_SECTIONS + SECTIONS_PER_ROOT - 1) / SECTIONS_PER_ROOT)

/* The reviewer's widened slot: one line per section, holding the kernel-virtual base and
 * the physical bounds of the range that covers the section (base 0: none). */
struct section_slot {
	uint64_t base, start, end;
	uint64_t pad[5];
} __attribute__((aligned(LINE)));

/* `struct mem_section *mem_section[NR_SECTION_ROOTS]` (static before v4.15). */
static struct section_slot *mem_section[NR_SECTION_ROOTS] __attribute__((aligned(LINE)));

/* ------------------------------------------------------------------------------------ */
/* the xarray of dev_pagemaps (lib/xarray.c, include/linux/xarray.h shapes)              */

#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE (1UL << XA_CHUNK_SHIFT)
#define XA_CHUNK_MASK (XA_CHUNK_SIZE - 1)

struct xa_node {
	unsigned char shift, offset, count, nr_values;
	struct xa_node *parent;
	void *array;
	struct list_head private_list; /* union with rcu_head */
	void *slots[XA_CHUNK_SIZE];
	unsigned long marks[3][1];
}; /* 576 bytes, slots at 40 */

struct xarray {
	uint32_t xa_lock;
	uint32_t xa_flags;
	void *xa_head;
};

/* `DEFINE_XARRAY(pgmap_array)` */
static struct xarray pgmap_array __attribute__((aligned(LINE)));

/* The part of struct dev_pagemap the lookup reads: its range (v4.16's pgmap->res). */
struct dev_pagemap {
	struct resource res;
	long index; /* the range's registration index (what pgmap() answers) */
};

/* Internal entries, as include/linux/xarray.h encodes them. */
static inline void *xa_mk_internal(unsigned long v) { return (void *)((v << 2) | 2); }
static inline unsigned long xa_to_internal(const void *e) { return (uintptr_t)e >> 2; }
static inline int xa_is_internal(const void *e) { return ((uintptr_t)e & 3) == 2; }
static inline void *xa_mk_node(const struct xa_node *n) { return (void *)((uintptr_t)n | 2); }
static inline struct xa_node *xa_to_node(const void *e) { return (struct xa_node *)((uintptr_t)e - 2); }
static inline int xa_is_node(const void *e) { return xa_is_internal(e) && (uintptr_t)e > 4096; }
static inline void *xa_mk_sibling(unsigned long off) { return xa_mk_internal(off); }
static inline int xa_is_sibling(const void *e)
{
	return xa_is_internal(e) && e < xa_mk_sibling(XA_CHUNK_SIZE - 1);
}

/* ------------------------------------------------------------------------------------ */
/* x86_64's memory-model bases (arch/x86/kernel/head64.c, CONFIG_RANDOMIZE_MEMORY)       */

/* page_offset_base, vmalloc_base and vmemmap_base are variables with KASLR of memory
 * (v4.8+), defined side by side: one line.  volatile so that each use is a real load. */
static struct {
	volatile unsigned long page_offset_base;
	volatile unsigned long vmalloc_base;
	volatile unsigned long vmemmap_base;
} x86_bases __attribute__((aligned(LINE))) = {
	0xffff888000000000UL, 0xffffc90000000000UL, 0xffffea0000000000UL};

struct page {
	unsigned long words[8];
}; /* 64 bytes, as on x86_64 */

/* ------------------------------------------------------------------------------------ */
/* state                                                                                 */

#define MAX_RANGES 4096
#define FAKE_KVA_BASE 0xffffc90000000000ULL /* the start of x86_64's vmalloc space */
#define DEFAULT_RANGE_BYTES (1ULL << 30)
#define DEFAULT_BASE_PHYS 0x440000000ULL

struct region {
	uintptr_t start;
	size_t bytes;
};

static struct {
	long n;
	uint64_t range_bytes, base_phys;
	char *kmap_pages, *res_pages, *pgmap_pages;
	struct kmap **kmaps; /* by registration index */
	struct resource **res;
	struct dev_pagemap **pgmaps;
	struct xa_node **nodes;
	size_t nr_nodes, cap_nodes;
	struct region *regions; /* every line the paths can touch, for cold runs */
	size_t nr_regions, cap_regions;
	int scatter; /* the pages of the kmaps and resources in a shuffled order */
} st = {0, DEFAULT_RANGE_BYTES, DEFAULT_BASE_PHYS, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, 0, 0, NULL, 0, 0, 0};

static volatile uint64_t sink; /* where every timed result goes */
static int timing_busy;        /* a time() call has the structures (GIL released) */

/* ------------------------------------------------------------------------------------ */
/* the lookups.  Each returns the kernel function's answer (0 for NULL) and, in *tail, the
 * XOR of every value it loaded (pointers made opaque first): the kernel's answer can be
 * decided by a branch alone (a miss is a constant NULL, kunmap's "found" is control flow),
 * and a timed run chains on answer ^ tail, so the next lookup waits until all of this
 * one's loads are back, not only those its answer is computed from.  Calls from Python
 * drop *tail and the compiler drops the XORs with it. */

/* kmap_atomic_pfn_t()'s loop (mm/kmap_pfn.c): list_for_each_entry_rcu(kmap, &ranges,
 * list), the first range with res->start <= addr <= res->end wins, and the answer is
 * kmap->base + addr - res->start.  *visited counts the nodes examined. */
static inline uint64_t kmap_walk_phys(uint64_t addr, uintptr_t dz, unsigned *visited,
				      uint64_t *tail)
{
	struct list_head *pos = READ_ONCE(AT(ranges, dz).next); /* rcu_dereference(head->next) */
	unsigned v = 0;
	uint64_t t, acc = 0;

	for (;;) {
		t = (uint64_t)(uintptr_t)pos;
		OPAQUE_HERE(t);
		acc ^= t;
		if (pos == &ranges)
			break;
		struct kmap *kmap = (struct kmap *)pos; /* container_of: list is at offset 0 */
		struct resource *res = kmap->res;
		uint64_t start = res->start;

		v++;
		acc ^= start;
		if (addr >= start) {
			uint64_t end = res->end;

			acc ^= end;
			if (addr <= end) {
				*visited = v;
				*tail = acc;
				return (uint64_t)(uintptr_t)kmap->base + addr - start;
			}
		}
		pos = READ_ONCE(pos->next);
	}
	*visited = v;
	*tail = acc;
	return 0;
}

/* kunmap_atomic_pfn_t()'s loop: is addr inside some kmap's [base, base + size)?  The
 * kernel's test is `addr < kmap->base + resource_size(kmap->res) && addr >= kmap->base`,
 * in that order, so every node costs base, res, start and end.  Answers the kmap or 0. */
static inline uint64_t kmap_walk_kva(uint64_t addr, uintptr_t dz, unsigned *visited,
				     uint64_t *tail)
{
	struct list_head *pos = READ_ONCE(AT(ranges, dz).next);
	unsigned v = 0;
	uint64_t t, acc = 0;

	for (;;) {
		t = (uint64_t)(uintptr_t)pos;
		OPAQUE_HERE(t);
		acc ^= t;
		if (pos == &ranges)
			break;
		struct kmap *kmap = (struct kmap *)pos;
		uint64_t base = (uint64_t)(uintptr_t)kmap->base;
		struct resource *res = kmap->res;
		uint64_t limit = base + (res->end - res->start + 1); /* resource_size() */

		v++;
		acc ^= limit;
		if (addr < limit && addr >= base) {
			*visited = v;
			*tail = acc;
			return (uint64_t)(uintptr_t)kmap;
		}
		pos = READ_ONCE(pos->next);
	}
	*visited = v;
	*tail = acc;
	return 0;
}

/* The reviewer's O(1) lookup: __nr_to_section(pfn_to_section_nr(pfn)) on the widened
 * table (`if (!mem_section[root]) return NULL; return &mem_section[root][nr & mask]`),
 * then the slot's own bounds check and base + offset. */
static inline uint64_t section_lookup(uint64_t pfn, uintptr_t dz, uint64_t *tail)
{
	uint64_t nr = pfn >> PFN_SECTION_SHIFT;
	uint64_t addr = pfn << PAGE_SHIFT;
	struct section_slot *root, *slot;
	uint64_t base, start, end, t;

	*tail = 0;
	if (nr >= NR_MEM_SECTIONS)
		return 0;
	root = AT(mem_section[nr / SECTIONS_PER_ROOT], dz);
	t = (uint64_t)(uintptr_t)root;
	OPAQUE_HERE(t);
	*tail = t;
	if (!root)
		return 0;
	slot = &root[nr % SECTIONS_PER_ROOT];
	base = slot->base;
	start = slot->start;
	end = slot->end; /* the same line as base */
	*tail = t ^ base ^ start ^ end;
	if (!base || addr < start || addr > end)
		return 0;
	return base + addr - start;
}

/* xa_load() (lib/xarray.c xas_start() + xas_descend()): from xa_head, node by node, the
 * slot that (index >> node->shift) & XA_CHUNK_MASK selects; a sibling slot points back at
 * the canonical slot of a multi-index entry. */
static inline void *xa_load_index(uint64_t index, uintptr_t dz, uint64_t *tail)
{
	void *entry = READ_ONCE(AT(pgmap_array, dz).xa_head);
	struct xa_node *node;
	unsigned shift;
	uint64_t t = (uint64_t)(uintptr_t)entry, acc;

	OPAQUE_HERE(t);
	acc = t;
	*tail = acc;
	if (!xa_is_node(entry))
		return (index || xa_is_internal(entry)) ? NULL : entry;
	node = xa_to_node(entry);
	shift = node->shift; /* xas_start()'s bound check and get_offset() read it */
	acc ^= shift;
	*tail = acc;
	if ((index >> shift) > XA_CHUNK_MASK) /* beyond what the tree spans */
		return NULL;
	for (;;) {
		unsigned long offset = (index >> shift) & XA_CHUNK_MASK;

		entry = READ_ONCE(node->slots[offset]);
		if (xa_is_sibling(entry))
			entry = READ_ONCE(node->slots[xa_to_internal(entry)]);
		t = (uint64_t)(uintptr_t)entry;
		OPAQUE_HERE(t);
		acc ^= t;
		if (!xa_is_node(entry) || shift == 0)
			break;
		node = xa_to_node(entry);
		shift = node->shift;
		acc ^= shift;
	}
	*tail = acc;
	return xa_is_internal(entry) ? NULL : entry;
}

/* get_dev_pagemap(pfn, NULL) (mm/memremap.c, v4.16+): the xarray lookup, then the range
 * check the function makes of a pgmap before trusting it (phys within res.start..end).
 * The real slow path then takes percpu_ref_tryget_live(); a replica has nobody to race. */
static inline uint64_t pgmap_lookup(uint64_t pfn, uintptr_t dz, uint64_t *tail)
{
	uint64_t phys = pfn << PAGE_SHIFT;
	struct dev_pagemap *pgmap = xa_load_index(pfn, dz, tail);
	uint64_t start, end;

	if (!pgmap)
		return 0;
	start = pgmap->res.start;
	end = pgmap->res.end;
	*tail ^= start ^ end;
	if (phys >= start && phys <= end)
		return (uint64_t)(uintptr_t)pgmap;
	return 0;
}

/* page_address(pfn_to_page(pfn)) on x86_64 with SPARSEMEM_VMEMMAP: __pfn_to_page() is
 * vmemmap + pfn, __page_to_pfn() is page - vmemmap, and the direct map is
 * page_offset_base + (pfn << PAGE_SHIFT).  vmemmap_base is read once, as the kernel's
 * compiler would; the page pointer is made opaque so the arithmetic is really done.  The
 * answer is computed from both loads, so *tail has nothing to add. */
static inline uint64_t page_lookup(uint64_t pfn, uintptr_t dz, uint64_t *tail)
{
	uint64_t vmemmap = AT(x86_bases, dz).vmemmap_base; /* (struct page *)vmemmap_base */
	uint64_t page = vmemmap + pfn * sizeof(struct page); /* __pfn_to_page(pfn) */

	OPAQUE(page);
	*tail = 0;
	return AT(x86_bases, dz).page_offset_base +
	       (((page - vmemmap) / sizeof(struct page)) << PAGE_SHIFT); /* __va(PFN_PHYS()) */
}

/* ------------------------------------------------------------------------------------ */
/* building and freeing                                                                  */

static int add_region(const void *p, size_t bytes)
{
	if (st.nr_regions == st.cap_regions) {
		size_t cap = st.cap_regions ? st.cap_regions * 2 : 64;
		struct region *r = realloc(st.regions, cap * sizeof(*r));
		if (!r)
			return -1;
		st.regions = r;
		st.cap_regions = cap;
	}
	st.regions[st.nr_regions].start = (uintptr_t)p;
	st.regions[st.nr_regions].bytes = bytes;
	st.nr_regions++;
	return 0;
}

static void *zalloc_aligned(size_t align, size_t bytes)
{
	void *p = NULL;

	if (posix_memalign(&p, align, bytes))
		return NULL;
	memset(p, 0, bytes);
	return p;
}

static void free_all(void)
{
	size_t i;

	ranges.next = ranges.prev = &ranges;
	pgmap_array.xa_head = NULL;
	for (i = 0; i < NR_SECTION_ROOTS; i++) {
		free(mem_section[i]);
		mem_section[i] = NULL;
	}
	for (i = 0; i < st.nr_nodes; i++)
		free(st.nodes[i]);
	free(st.nodes);
	free(st.kmap_pages);
	free(st.res_pages);
	free(st.pgmap_pages);
	free(st.kmaps);
	free(st.res);
	free(st.pgmaps);
	free(st.regions);
	st.nodes = NULL;
	st.nr_nodes = st.cap_nodes = 0;
	st.scatter = 0;
	st.kmap_pages = st.res_pages = st.pgmap_pages = NULL;
	st.kmaps = NULL;
	st.res = NULL;
	st.pgmaps = NULL;
	st.regions = NULL;
	st.nr_regions = st.cap_regions = 0;
	st.n = 0;
}

/* list_add_rcu(new, head): after the head, so the newest range is walked first. */
static void list_add_rcu(struct list_head *new, struct list_head *head)
{
	struct list_head *next = head->next;

	new->next = next;
	new->prev = head;
	next->prev = new;
	head->next = new; /* rcu_assign_pointer() */
}

static struct xa_node *xa_node_alloc(unsigned shift, struct xa_node *parent, unsigned offset)
{
	/* from radix_tree_node_cachep: 576-byte objects, line aligned */
	struct xa_node *node = zalloc_aligned(LINE, sizeof(struct xa_node));

	if (!node)
		return NULL;
	if (st.nr_nodes == st.cap_nodes) {
		size_t cap = st.cap_nodes ? st.cap_nodes * 2 : 16;
		struct xa_node **a = realloc(st.nodes, cap * sizeof(*a));
		if (!a) {
			free(node);
			return NULL;
		}
		st.nodes = a;
		st.cap_nodes = cap;
	}
	st.nodes[st.nr_nodes++] = node;
	node->shift = (unsigned char)shift;
	node->offset = (unsigned char)offset;
	node->parent = parent;
	node->array = &pgmap_array;
	node->private_list.next = node->private_list.prev = &node->private_list;
	return node;
}

/* One entry as xas_store() leaves it: the pointer in the canonical slot of the node at
 * `shift`, `sibs` sibling slots after it pointing back.  Nodes are made on the way down
 * (xas_create()).  -1: out of memory or an overlap (which the callers never make). */
static int xa_put(struct xa_node *root, uint64_t index, unsigned shift, unsigned sibs, void *ptr)
{
	struct xa_node *node = root;
	unsigned long off, k;

	while (node->shift > shift) {
		void *e;

		off = (index >> node->shift) & XA_CHUNK_MASK;
		e = node->slots[off];
		if (!e) {
			struct xa_node *child = xa_node_alloc(node->shift - XA_CHUNK_SHIFT, node, off);
			if (!child)
				return -1;
			node->slots[off] = xa_mk_node(child);
			node->count++;
			e = node->slots[off];
		}
		if (!xa_is_node(e))
			return -1;
		node = xa_to_node(e);
	}
	if (node->shift != shift)
		return -1;
	off = (index >> shift) & XA_CHUNK_MASK;
	if (off + sibs > XA_CHUNK_MASK)
		return -1;
	for (k = 0; k <= sibs; k++)
		if (node->slots[off + k])
			return -1;
	node->slots[off] = ptr;
	for (k = 1; k <= sibs; k++)
		node->slots[off + k] = xa_mk_sibling(off);
	node->count += (unsigned char)(sibs + 1);
	return 0;
}

/* xa_store_range(first, last): each round, xas_set_range() picks the highest level and
 * slot run that starts at `first` without going past `last` (lib/xarray.c); the same
 * rounds as pgmap_lookup.xa_range_entries() in the simulator.  With root == NULL only the
 * highest index is reported (to size the tree first). */
static int xa_store_range(struct xa_node *root, uint64_t first, uint64_t last, void *ptr,
			  uint64_t *max_index)
{
	while (first <= last) {
		unsigned shift = 0;
		uint64_t index = first, sibs = last - first, partial = XA_CHUNK_MASK, offset, span;

		while ((index & XA_CHUNK_MASK) == 0) {
			if (sibs < XA_CHUNK_MASK || (sibs == XA_CHUNK_MASK && partial < XA_CHUNK_MASK))
				break;
			shift += XA_CHUNK_SHIFT;
			if (partial == XA_CHUNK_MASK)
				partial = sibs & XA_CHUNK_MASK;
			sibs >>= XA_CHUNK_SHIFT;
			index >>= XA_CHUNK_SHIFT;
		}
		offset = index & XA_CHUNK_MASK;
		if (offset + sibs > XA_CHUNK_MASK)
			sibs = XA_CHUNK_MASK - offset;
		if (((index + sibs + 1) << shift) - 1 > last) {
			if (sibs == 0)
				return -1; /* cannot happen: a level is only taken when it fits */
			sibs -= 1;
		}
		span = (sibs + 1) << shift;
		if (root) {
			if (xa_put(root, index << shift, shift, (unsigned)sibs, ptr))
				return -1;
		} else if (max_index && first + span - 1 > *max_index) {
			*max_index = first + span - 1;
		}
		if (first + span - 1 >= last)
			break; /* also stops a wrap at the top of the index space */
		first += span;
	}
	return 0;
}

/* What devm_register_kmap_pfn_range() and the two later designs would hold for n ranges;
 * 0, or -1 with a Python error set (everything freed). */
/* Fisher-Yates over 0..n-1 with a fixed xorshift seed: where each object's page goes when
 * the layout is scattered (the same every run). NULL: out of memory. */
static long *page_order(long n, uint64_t seed)
{
	long *out = calloc((size_t)(n > 0 ? n : 1), sizeof(long));
	long i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = i;
	for (i = n - 1; i > 0; i--) {
		long j, tmp;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		j = (long)(seed % (uint64_t)(i + 1));
		tmp = out[i];
		out[i] = out[j];
		out[j] = tmp;
	}
	return out;
}

static int build_all(long n, uint64_t range_bytes, uint64_t base_phys, int scatter)
{
	long i;
	uint64_t max_index = 0;
	struct xa_node *root = NULL;
	long *kmap_order = NULL, *res_order = NULL;

	free_all();
	st.range_bytes = range_bytes;
	st.base_phys = base_phys;
	if (n > 0) {
		size_t bytes = (size_t)n * PAGE_SIZE;

		st.kmap_pages = zalloc_aligned(PAGE_SIZE, bytes);
		st.res_pages = zalloc_aligned(PAGE_SIZE, bytes);
		st.pgmap_pages = zalloc_aligned(PAGE_SIZE, bytes);
		st.kmaps = calloc((size_t)n, sizeof(*st.kmaps));
		st.res = calloc((size_t)n, sizeof(*st.res));
		st.pgmaps = calloc((size_t)n, sizeof(*st.pgmaps));
		if (!st.kmap_pages || !st.res_pages || !st.pgmap_pages || !st.kmaps || !st.res ||
		    !st.pgmaps)
			goto nomem;
	}
	/* scattered: the i-th kmap and resource on pages in a shuffled order, so that no stride
	 * links one node to the next (as objects kzalloc'd at different times need not be) */
	kmap_order = page_order(n, scatter ? 0x9E3779B97F4A7C15ULL : 0);
	res_order = page_order(n, scatter ? 0xD1B54A32D192ED03ULL : 0);
	if (!kmap_order || !res_order)
		goto nomem;
	if (!scatter)
		for (i = 0; i < n; i++)
			kmap_order[i] = res_order[i] = i;
	/* the statics every path may touch */
	if (add_region(&ranges, sizeof(ranges)) || add_region(mem_section, sizeof(mem_section)) ||
	    add_region(&pgmap_array, sizeof(pgmap_array)) ||
	    add_region(&x86_bases, sizeof(x86_bases)))
		goto nomem;

	for (i = 0; i < n; i++) {
		uint64_t seq = (uint64_t)i + 1; /* the simulator's KmapRange.seq */
		uint64_t start = base_phys + (uint64_t)i * range_bytes;
		uint64_t end = start + range_bytes - 1;
		uint64_t base = FAKE_KVA_BASE + (uint64_t)i * range_bytes;
		struct kmap *kmap = (struct kmap *)(st.kmap_pages + (size_t)kmap_order[i] * PAGE_SIZE +
						    (seq % 64) * LINE);
		struct resource *res = (struct resource *)(st.res_pages + (size_t)res_order[i] * PAGE_SIZE +
							   ((seq * 7) % 64) * LINE);
		struct dev_pagemap *pgmap = (struct dev_pagemap *)(st.pgmap_pages +
								   (size_t)i * PAGE_SIZE +
								   ((seq * 13) % 64) * LINE);
		uint64_t nr;

		/* the driver's resource */
		res->start = start;
		res->end = end;
		res->name = "pmem";
		res->flags = 0x200; /* IORESOURCE_MEM */
		/* devm_register_kmap_pfn_range(dev, res, base) */
		kmap->list.next = kmap->list.prev = &kmap->list; /* INIT_LIST_HEAD */
		kmap->res = res;
		kmap->base = (void *)(uintptr_t)base;
		kmap->dev = NULL;
		list_add_rcu(&kmap->list, &ranges);
		st.kmaps[i] = kmap;
		st.res[i] = res;
		if (add_region(kmap, sizeof(*kmap)) || add_region(res, sizeof(*res)))
			goto nomem;

		/* the widened section table */
		for (nr = start >> SECTION_SIZE_BITS; nr <= end >> SECTION_SIZE_BITS; nr++) {
			struct section_slot **rootp = &mem_section[nr / SECTIONS_PER_ROOT];
			struct section_slot *slot;

			if (!*rootp) {
				*rootp = zalloc_aligned(PAGE_SIZE,
							SECTIONS_PER_ROOT * sizeof(struct section_slot));
				if (!*rootp)
					goto nomem;
				if (add_region(*rootp, SECTIONS_PER_ROOT * sizeof(struct section_slot)))
					goto nomem;
			}
			slot = &(*rootp)[nr % SECTIONS_PER_ROOT];
			slot->base = base;
			slot->start = start;
			slot->end = end;
		}

		/* the driver's dev_pagemap */
		pgmap->res = *res;
		pgmap->index = i;
		st.pgmaps[i] = pgmap;
		if (add_region(pgmap, sizeof(*pgmap)))
			goto nomem;
		if (xa_store_range(NULL, start >> PAGE_SHIFT, end >> PAGE_SHIFT, NULL, &max_index))
			goto bad;
	}

	if (n > 0) {
		/* xas_expand(): the tree is as tall as the highest index needs */
		unsigned height = 0;

		while (height < 11 && (max_index >> (XA_CHUNK_SHIFT * height)))
			height++;
		if (height == 0)
			goto bad; /* only index 0: impossible with 128 MiB aligned ranges */
		root = xa_node_alloc(XA_CHUNK_SHIFT * (height - 1), NULL, 0);
		if (!root)
			goto nomem;
		for (i = 0; i < n; i++) {
			uint64_t start = st.pgmaps[i]->res.start, end = st.pgmaps[i]->res.end;
			if (xa_store_range(root, start >> PAGE_SHIFT, end >> PAGE_SHIFT, st.pgmaps[i],
					   NULL))
				goto bad;
		}
		pgmap_array.xa_head = xa_mk_node(root);
		for (size_t k = 0; k < st.nr_nodes; k++)
			if (add_region(st.nodes[k], sizeof(struct xa_node)))
				goto nomem;
	}
	st.n = n;
	st.scatter = scatter;
	free(kmap_order);
	free(res_order);
	return 0;

nomem:
	free(kmap_order);
	free(res_order);
	free_all();
	PyErr_NoMemory();
	return -1;
bad:
	free(kmap_order);
	free(res_order);
	free_all();
	PyErr_SetString(PyExc_RuntimeError, "_probe: could not build the pgmap tree");
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* argument helpers                                                                      */

/* An int (or __index__) in [lo, hi]; TypeError for a non-integer, ValueError otherwise. */
static int get_u64(PyObject *o, const char *what, uint64_t lo, uint64_t hi, uint64_t *out)
{
	PyObject *idx = PyNumber_Index(o);
	unsigned long long v;

	if (!idx)
		return -1;
	v = PyLong_AsUnsignedLongLong(idx);
	Py_DECREF(idx);
	if (v == (unsigned long long)-1 && PyErr_Occurred()) {
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		goto range;
	}
	if (v < lo || v > hi)
		goto range;
	*out = v;
	return 0;
range:
	PyErr_Format(PyExc_ValueError, "%s must be an integer from %llu to %llu", what,
		     (unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

#define MAX_PFN ((1ULL << (MAX_PHYSMEM_BITS - PAGE_SHIFT)) - 1)

static int get_pfn(PyObject *o, uint64_t *out) { return get_u64(o, "pfn", 0, MAX_PFN, out); }

/* ------------------------------------------------------------------------------------ */
/* build, walk, unwalk, section, pgmap, page                                             */

static PyObject *probe_build(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"n", "range_bytes", "base_phys", "scatter", NULL};
	PyObject *on, *orb = NULL, *obp = NULL;
	int scatter = 0;
	uint64_t n, rb = DEFAULT_RANGE_BYTES, bp = DEFAULT_BASE_PHYS;
	const uint64_t section = 1ULL << SECTION_SIZE_BITS, top = 1ULL << MAX_PHYSMEM_BITS;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOp:build", kwlist, &on, &orb, &obp,
					 &scatter))
		return NULL;
	if (get_u64(on, "n", 0, MAX_RANGES, &n))
		return NULL;
	if (orb && get_u64(orb, "range_bytes", section, top, &rb))
		return NULL;
	if (obp && get_u64(obp, "base_phys", 0, top, &bp))
		return NULL;
	if (rb % section || bp % section) {
		PyErr_Format(PyExc_ValueError,
			     "range_bytes and base_phys must be multiples of the %llu MiB section "
			     "(one range per section slot)",
			     (unsigned long long)(section >> 20));
		return NULL;
	}
	if (n * rb > top - bp) {
		PyErr_Format(PyExc_ValueError,
			     "base_phys + n * range_bytes goes beyond MAX_PHYSMEM_BITS=%d (%#llx)",
			     MAX_PHYSMEM_BITS, (unsigned long long)top);
		return NULL;
	}
	if (timing_busy) {
		PyErr_SetString(PyExc_RuntimeError, "build(): a time() call is running");
		return NULL;
	}
	if (build_all((long)n, rb, bp, scatter))
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *addr_or_none(uint64_t v)
{
	if (!v)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *probe_walk(PyObject *self, PyObject *arg)
{
	uint64_t pfn, tail, addr;
	unsigned visited = 0;
	PyObject *a;

	(void)self;
	if (get_pfn(arg, &pfn))
		return NULL;
	addr = kmap_walk_phys(pfn << PAGE_SHIFT, 0, &visited, &tail);
	a = addr_or_none(addr);
	if (!a)
		return NULL;
	return Py_BuildValue("(NI)", a, visited);
}

static PyObject *probe_unwalk(PyObject *self, PyObject *arg)
{
	uint64_t vaddr, tail, kmap;
	unsigned visited = 0;

	(void)self;
	if (get_u64(arg, "vaddr", 0, UINT64_MAX, &vaddr))
		return NULL;
	kmap = kmap_walk_kva(vaddr, 0, &visited, &tail);
	return Py_BuildValue("(OI)", kmap ? Py_True : Py_False, visited);
}

static PyObject *probe_section(PyObject *self, PyObject *arg)
{
	uint64_t pfn, tail;

	(void)self;
	if (get_pfn(arg, &pfn))
		return NULL;
	return addr_or_none(section_lookup(pfn, 0, &tail));
}

static PyObject *probe_pgmap(PyObject *self, PyObject *arg)
{
	uint64_t pfn, tail, p;

	(void)self;
	if (get_pfn(arg, &pfn))
		return NULL;
	p = pgmap_lookup(pfn, 0, &tail);
	if (!p)
		Py_RETURN_NONE;
	return PyLong_FromLong(((struct dev_pagemap *)(uintptr_t)p)->index);
}

static PyObject *probe_page(PyObject *self, PyObject *arg)
{
	uint64_t pfn, tail;

	(void)self;
	if (get_pfn(arg, &pfn))
		return NULL;
	return PyLong_FromUnsignedLongLong(page_lookup(pfn, 0, &tail));
}

/* ------------------------------------------------------------------------------------ */
/* timing                                                                                */

enum path { P_LIST, P_UNLIST, P_SECTION, P_PGMAP, P_PAGE };

static const char *const path_names[] = {"list", "unlist", "section", "pgmap", "page"};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#if PROBE_X86
/* rdtsc between lfences: nothing before it is still running, nothing after has begun. */
static inline uint64_t fenced_tsc(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static int cpu_has_clflush(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (d & (1u << 19)) != 0; /* CPUID.1:EDX.CLFSH */
}
#else
static int cpu_has_clflush(void) { return 0; }
#endif

/* One lookup of `path` for `in`; the value the next lookup is chained to comes back. */
static inline uint64_t one(enum path path, uint64_t in, uintptr_t dz)
{
	uint64_t tail = 0, r = 0;
	unsigned visited;

	switch (path) {
	case P_LIST:
		r = kmap_walk_phys((in & MAX_PFN) << PAGE_SHIFT, dz, &visited, &tail);
		break;
	case P_UNLIST:
		r = kmap_walk_kva(in, dz, &visited, &tail);
		break;
	case P_SECTION:
		r = section_lookup(in & MAX_PFN, dz, &tail);
		break;
	case P_PGMAP:
		r = pgmap_lookup(in & MAX_PFN, dz, &tail);
		break;
	case P_PAGE:
		r = page_lookup(in & MAX_PFN, dz, &tail);
		break;
	}
	sink = r;
	return r ^ tail;
}

/* `batch` lookups back to back, each one waiting for the one before: dep = (result ^
 * last load) & zero, where zero is 0 but the compiler cannot know it, so the AND is really
 * executed; dep is added to the next input and to the address of the next lookup's first
 * load (AT()), so not even that load can start before the previous lookup has finished.
 * Latency, not throughput.  One loop per path: no branch on the path inside the loop. */
#define DEFINE_BATCH(name, P)                                                    \
	static uint64_t batch_##name(uint64_t arg, uint64_t batch, uint64_t zero) \
	{                                                                         \
		uint64_t dep = 0, i;                                              \
		OPAQUE(zero);                                                     \
		for (i = 0; i < batch; i++) {                                     \
			dep = one(P, arg + dep, dep) & zero;                      \
			barrier();                                                \
		}                                                                 \
		return dep;                                                       \
	}
DEFINE_BATCH(list, P_LIST)
DEFINE_BATCH(unlist, P_UNLIST)
DEFINE_BATCH(section, P_SECTION)
DEFINE_BATCH(pgmap, P_PGMAP)
DEFINE_BATCH(page, P_PAGE)

static uint64_t run_batch(enum path path, uint64_t arg, uint64_t batch, uint64_t zero)
{
	switch (path) {
	case P_LIST:
		return batch_list(arg, batch, zero);
	case P_UNLIST:
		return batch_unlist(arg, batch, zero);
	case P_SECTION:
		return batch_section(arg, batch, zero);
	case P_PGMAP:
		return batch_pgmap(arg, batch, zero);
	case P_PAGE:
		return batch_page(arg, batch, zero);
	}
	return 0;
}

#define MAX_REPS 100000
#define MAX_EVICT (1ULL << 30)
#define DEFAULT_EVICT (64ULL << 20) /* without clflush: touch this much instead */
#define HOT_BATCH_NS 20000
#define CHUNK_NS 50000000ULL /* give the GIL back and look at signals this often */

static char *evict_buf;
static size_t evict_buf_bytes;
#if PROBE_X86
static double tsc_per_ns; /* TSC ticks per ns, calibrated once */
#endif

static void touch_buffer(size_t bytes)
{
	const volatile char *p = (const volatile char *)evict_buf;
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < bytes; i += LINE)
		acc += p[i];
	sink = acc;
}

/* Put every line the paths can read out of the caches. */
static void evict(size_t bytes, int flush)
{
	if (bytes)
		touch_buffer(bytes);
#if PROBE_X86
	if (flush) {
		size_t r;

		for (r = 0; r < st.nr_regions; r++) {
			uintptr_t a = st.regions[r].start & ~(uintptr_t)(LINE - 1);
			uintptr_t end = st.regions[r].start + st.regions[r].bytes;

			for (; a < end; a += LINE)
				_mm_clflush((const void *)a);
		}
		_mm_mfence();
	}
#else
	(void)flush;
#endif
}

struct sample {
	double ns;
	int64_t cycles; /* -1: none */
};

struct timing {
	enum path path;
	uint64_t arg, batch, zero, overhead;
	size_t evict_bytes;
	int cold, flush;
};

static void take_sample(const struct timing *t, struct sample *s)
{
	if (!t->cold) {
		uint64_t t0, t1;
#if PROBE_X86
		uint64_t c0, c1;

		t0 = now_ns();
		c0 = fenced_tsc();
		sink = run_batch(t->path, t->arg, t->batch, t->zero);
		c1 = fenced_tsc();
		t1 = now_ns();
		s->cycles = (int64_t)(((double)(c1 - c0)) / (double)t->batch + 0.5);
#else
		t0 = now_ns();
		sink = run_batch(t->path, t->arg, t->batch, t->zero);
		t1 = now_ns();
		s->cycles = -1;
#endif
		s->ns = (double)(t1 - t0) / (double)t->batch;
		return;
	}
	evict(t->evict_bytes, t->flush);
	{
#if PROBE_X86
		uint64_t c0, c1, d;

		_mm_mfence();
		c0 = fenced_tsc();
		sink = one(t->path, t->arg, 0);
		c1 = fenced_tsc();
		d = c1 - c0 > t->overhead ? c1 - c0 - t->overhead : 0;
		s->cycles = (int64_t)d;
		s->ns = (double)d / tsc_per_ns;
#else
		uint64_t t0, t1, d;

		t0 = now_ns();
		sink = one(t->path, t->arg, 0);
		t1 = now_ns();
		d = t1 - t0 > t->overhead ? t1 - t0 - t->overhead : 0;
		s->cycles = -1;
		s->ns = (double)d;
#endif
	}
}

/* The smallest cost of the empty timer, taken off each cold sample. */
static uint64_t timer_overhead(void)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 2000; i++) {
#if PROBE_X86
		uint64_t a = fenced_tsc(), b = fenced_tsc();
#else
		uint64_t a = now_ns(), b = now_ns();
#endif
		if (b - a < best)
			best = b - a;
	}
	return best;
}

#if PROBE_X86
static void calibrate_tsc(void)
{
	uint64_t t0 = now_ns(), c0 = fenced_tsc(), t1, c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 20000000ULL); /* 20 ms */
	c1 = fenced_tsc();
	tsc_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
	if (!(tsc_per_ns > 0))
		tsc_per_ns = 1.0;
}
#endif

static PyObject *probe_time(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"path", "pfn", "reps", "cold", "evict_bytes", NULL};
	const char *pname;
	PyObject *opfn, *oreps, *oevict = NULL, *list = NULL;
	int cold, ok = 0;
	uint64_t pfn, reps, evict_bytes = 0, tail;
	unsigned visited;
	struct timing t;
	struct sample *samples = NULL;
	size_t done = 0, i;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOp|O:time", kwlist, &pname, &opfn, &oreps,
					 &cold, &oevict))
		return NULL;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < sizeof(path_names) / sizeof(path_names[0]); i++)
		if (!strcmp(pname, path_names[i]))
			break;
	if (i == sizeof(path_names) / sizeof(path_names[0])) {
		PyErr_Format(PyExc_ValueError,
			     "path must be one of list, unlist, section, pgmap, page (got %.40s)",
			     pname);
		return NULL;
	}
	t.path = (enum path)i;
	if (get_pfn(opfn, &pfn) || get_u64(oreps, "reps", 1, MAX_REPS, &reps))
		return NULL;
	if (oevict && get_u64(oevict, "evict_bytes", 0, MAX_EVICT, &evict_bytes))
		return NULL;
	if (timing_busy) {
		PyErr_SetString(PyExc_RuntimeError, "time(): another time() call is running");
		return NULL;
	}

	t.cold = cold;
	t.flush = cold && PROBE_X86 && cpu_has_clflush();
	t.evict_bytes = cold ? (size_t)evict_bytes : 0;
	if (cold && !t.flush && !t.evict_bytes)
		t.evict_bytes = DEFAULT_EVICT; /* no clflush: a buffer is all there is */
	if (t.path == P_UNLIST) {
		/* the address kmap_atomic_pfn_t() gave for this pfn; for a pfn in no range, its
		 * direct-map address, as kunmap of a kmap_atomic() page (a whole-list miss) */
		t.arg = kmap_walk_phys(pfn << PAGE_SHIFT, 0, &visited, &tail);
		if (!t.arg)
			t.arg = page_lookup(pfn, 0, &tail);
	} else {
		t.arg = pfn;
	}
	samples = PyMem_Calloc((size_t)reps, sizeof(*samples));
	if (!samples)
		return PyErr_NoMemory();
	if (t.evict_bytes > evict_buf_bytes) {
		free(evict_buf);
		evict_buf_bytes = 0;
		evict_buf = zalloc_aligned(PAGE_SIZE, t.evict_bytes);
		if (!evict_buf) {
			PyMem_Free(samples);
			return PyErr_NoMemory();
		}
		memset(evict_buf, 1, t.evict_bytes); /* real pages, not the shared zero page */
		evict_buf_bytes = t.evict_bytes;
	}
	t.zero = 0;
	OPAQUE(t.zero);

	timing_busy = 1;
	Py_BEGIN_ALLOW_THREADS
#if PROBE_X86
	if (cold && !(tsc_per_ns > 0))
		calibrate_tsc();
#endif
	if (cold) {
		t.overhead = timer_overhead();
		t.batch = 1;
	} else {
		/* warm up, and find a batch long enough for the clock (>= ~20 us) */
		t.batch = 1;
		for (;;) {
			uint64_t t0 = now_ns(), el;

			sink = run_batch(t.path, t.arg, t.batch, t.zero);
			el = now_ns() - t0;
			if (el >= HOT_BATCH_NS || t.batch >= (1ULL << 26))
				break;
			t.batch *= 2;
		}
	}
	Py_END_ALLOW_THREADS

	while (done < reps) {
		Py_BEGIN_ALLOW_THREADS
		uint64_t start = now_ns();
		do
			take_sample(&t, &samples[done++]);
		while (done < reps && now_ns() - start < CHUNK_NS);
		Py_END_ALLOW_THREADS
		if (PyErr_CheckSignals() < 0)
			goto out;
	}

	list = PyList_New((Py_ssize_t)reps);
	if (!list)
		goto out;
	for (i = 0; i < reps; i++) {
		PyObject *item = samples[i].cycles < 0
			? Py_BuildValue("(dO)", samples[i].ns, Py_None)
			: Py_BuildValue("(dL)", samples[i].ns, (long long)samples[i].cycles);
		if (!item)
			goto out;
		PyList_SET_ITEM(list, (Py_ssize_t)i, item);
	}
	ok = 1;
out:
	timing_busy = 0;
	PyMem_Free(samples);
	if (!ok) {
		Py_XDECREF(list);
		return NULL;
	}
	return list;
}

/* ------------------------------------------------------------------------------------ */
/* info and the module                                                                   */

static PyObject *probe_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return Py_BuildValue(
		"{s:n,s:n,s:O,s:O,s:l,s:K,s:K,s:n,s:i,s:O}", "sizeof_kmap", (Py_ssize_t)sizeof(struct kmap),
		"sizeof_resource", (Py_ssize_t)sizeof(struct resource), "rdtsc",
		PROBE_X86 ? Py_True : Py_False, "clflush", cpu_has_clflush() ? Py_True : Py_False,
		"n", st.n, "range_bytes", (unsigned long long)st.range_bytes, "base_phys",
		(unsigned long long)st.base_phys, "sections_per_root", (Py_ssize_t)SECTIONS_PER_ROOT,
		"section_shift", PFN_SECTION_SHIFT + PAGE_SHIFT, "scatter",
		st.scatter ? Py_True : Py_False);
}

static PyMethodDef probe_methods[] = {
	{"build", (PyCFunction)(void (*)(void))probe_build, METH_VARARGS | METH_KEYWORDS,
	 "build(n, range_bytes=1<<30, base_phys=0x440000000, scatter=False)\n--\n\n"
	 "Free the previous structures and register n ranges (0..4096), range i covering phys\n"
	 "[base_phys + i*range_bytes, +range_bytes-1] at the fake KVA 0xffffc90000000000 +\n"
	 "i*range_bytes: the kmap list (newest first), the section table and the pgmap tree.\n"
	 "range_bytes and base_phys must be multiples of the 128 MiB section."},
	{"walk", probe_walk, METH_O,
	 "walk(pfn)\n--\n\nkmap_atomic_pfn_t()'s loop: (address or None, nodes visited)."},
	{"unwalk", probe_unwalk, METH_O,
	 "unwalk(vaddr)\n--\n\nkunmap_atomic_pfn_t()'s loop: (found, nodes visited)."},
	{"section", probe_section, METH_O,
	 "section(pfn)\n--\n\nThe section-indexed table: address or None."},
	{"pgmap", probe_pgmap, METH_O,
	 "pgmap(pfn)\n--\n\nget_dev_pagemap()'s xarray walk: range index or None."},
	{"page", probe_page, METH_O,
	 "page(pfn)\n--\n\npage_address(pfn_to_page(pfn)) on x86_64 SPARSEMEM_VMEMMAP."},
	{"time", (PyCFunction)(void (*)(void))probe_time, METH_VARARGS | METH_KEYWORDS,
	 "time(path, pfn, reps, cold, evict_bytes=0)\n--\n\n"
	 "reps samples of (ns per lookup, cycles per lookup or None) for path list, unlist,\n"
	 "section, pgmap or page.  Hot: batches of chained lookups (>= ~20 us each); cold: one\n"
	 "lookup after clflush of every line the paths touch (and touching evict_bytes of a\n"
	 "buffer, if given; a 64 MiB buffer where there is no clflush).  Cycles are TSC ticks."},
	{"info", probe_info, METH_NOARGS, "info()\n--\n\nLayout facts and the current build."},
	{NULL, NULL, 0, NULL}};

static struct PyModuleDef probe_module = {
	PyModuleDef_HEAD_INIT,
	"pfnconsole._probe",
	"A user-space replica of the 2015 kmap_pfn lookup and layout, NOT the kernel.\n\n"
	"It lays out struct kmap, struct resource and the `ranges` list as the patch's\n"
	"mm/kmap_pfn.c had them on x86_64 and runs kmap_atomic_pfn_t()'s and\n"
	"kunmap_atomic_pfn_t()'s loops over them, beside a section-indexed table (the\n"
	"reviewer's alternative), a get_dev_pagemap()-shaped xarray and page_address()\n"
	"arithmetic, so that their costs can be measured on this CPU.  Everything lives in\n"
	"this process's memory; the kernel addresses it returns are never dereferenced, and\n"
	"no device is touched.",
	-1,
	probe_methods,
	NULL,
	NULL,
	NULL,
	NULL};

PyMODINIT_FUNC PyInit__probe(void) { return PyModule_Create(&probe_module); }
