//! Entities: order numbers, phones, emails, money, dates (absolute and relative), products.
