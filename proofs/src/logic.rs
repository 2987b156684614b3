//! A thin first-order layer over the `z3` crate: relation and function
//! symbols over uninterpreted sorts, bound variables, and the connectives the
//! protocol description is written in.
//!
//! Everything here builds formulas in Z3's thread-local context, so one test
//! thread owns one context and formulas never cross threads.

use std::rc::Rc;

use z3::ast::{self, Ast, Bool, Dynamic};
use z3::{FuncDecl, Sort};

/// An element of an uninterpreted sort (a node, an epoch, an lsn, a quorum).
pub type Term = Dynamic;

/// A fresh constant of `sort`; used both for transition parameters and for
/// quantified variables (Z3 abstracts constants into bound variables).
pub fn var(name: &str, sort: &Sort) -> Term {
    Dynamic::fresh_const(name, sort)
}

/// A relation symbol: a Boolean-valued function over uninterpreted sorts.
#[derive(Debug, Clone)]
pub struct Relation {
    decl: Rc<FuncDecl>,
}

impl Relation {
    /// Declares the relation `name ⊆ domain[0] × … × domain[k-1]`.
    pub fn new(name: &str, domain: &[&Sort]) -> Self {
        Relation {
            decl: Rc::new(FuncDecl::new(name, domain, &Sort::bool())),
        }
    }

    /// The atom `name(args…)`.
    pub fn holds(&self, args: &[&Term]) -> Bool {
        let args: Vec<&dyn Ast> = args.iter().map(|a| *a as &dyn Ast).collect();
        self.decl
            .apply(&args)
            .as_bool()
            .expect("relation symbols are Boolean-valued")
    }
}

/// A function symbol between uninterpreted sorts (e.g. a node's current epoch).
#[derive(Debug, Clone)]
pub struct Function {
    decl: Rc<FuncDecl>,
}

impl Function {
    /// Declares `name : domain[0] × … → range`.
    pub fn new(name: &str, domain: &[&Sort], range: &Sort) -> Self {
        Function {
            decl: Rc::new(FuncDecl::new(name, domain, range)),
        }
    }

    /// The term `name(args…)`.
    pub fn at(&self, args: &[&Term]) -> Term {
        let args: Vec<&dyn Ast> = args.iter().map(|a| *a as &dyn Ast).collect();
        self.decl.apply(&args)
    }
}

/// `∀ vars. body`.
pub fn forall(vars: &[&Term], body: Bool) -> Bool {
    let bounds: Vec<&dyn Ast> = vars.iter().map(|v| *v as &dyn Ast).collect();
    ast::forall_const(&bounds, &[], &body)
}

/// `∃ vars. body`.
pub fn exists(vars: &[&Term], body: Bool) -> Bool {
    let bounds: Vec<&dyn Ast> = vars.iter().map(|v| *v as &dyn Ast).collect();
    ast::exists_const(&bounds, &[], &body)
}

/// The conjunction of `parts` (true when empty).
pub fn and(parts: &[Bool]) -> Bool {
    if parts.is_empty() {
        Bool::from_bool(true)
    } else {
        Bool::and(parts)
    }
}

/// The disjunction of `parts` (false when empty).
pub fn or(parts: &[Bool]) -> Bool {
    if parts.is_empty() {
        Bool::from_bool(false)
    } else {
        Bool::or(parts)
    }
}

/// `premise ⇒ conclusion`.
pub fn implies(premise: Bool, conclusion: Bool) -> Bool {
    premise.implies(&conclusion)
}

/// `a = b`.
pub fn eq(a: &Term, b: &Term) -> Bool {
    a.eq(b.clone())
}

/// `a ≠ b`.
pub fn ne(a: &Term, b: &Term) -> Bool {
    a.eq(b.clone()).not()
}

/// The constant `true`.
pub fn truth() -> Bool {
    Bool::from_bool(true)
}

/// `a ⇔ b`.
pub fn iff(a: Bool, b: Bool) -> Bool {
    a.iff(&b)
}
