"""Other departments' lists (民政, 医保, 人社 …) as ``Listing`` nodes joined to the persons they name,
for the 数据比对 the benefit-gap report makes."""
